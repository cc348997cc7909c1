"""Channels between the parties: typed, length-checked frames, byte counters, no pickle.

A frame is `b"VL" | version (1 byte) | kind (1 byte) | payload length (8 bytes, big endian) |
payload`. The receiver names the kind it expects and the largest payload it will accept;
anything else (wrong magic or version, unexpected kind, oversized frame, short read) raises
`ProtocolError` before the payload is used. Payload layouts live in `messages.py`.

Two transports share the framing: `InProcessChannel` (a pair of queues, for tests and for
running several parties in one process) and `SocketChannel` (any connected stream socket:
TCP, a socketpair between processes, or a Unix socket).
"""
from __future__ import annotations

import queue
import socket
import struct

from veil.backends.yao.framing.kinds import FrameKind, kind_named
from veil.util.errors import ProtocolError  # A malformed, unexpected or oversized message.

MAGIC = b"VL"
VERSION = 1
HEADER = struct.Struct(">2sBBQ")
CHANNEL_FRAME_BYTES = 1 << 32          # 4 GiB: a whole layer of garbled tables fits


class PeerClosed(ProtocolError):
    """The other party stopped (usually after its own error, which says more)."""


class Channel:
    """One end of a bidirectional channel."""

    def __init__(self, max_payload: int = CHANNEL_FRAME_BYTES):
        self.max_payload = max_payload
        self.bytes_sent = 0
        self.bytes_received = 0

    # -- transport hooks ---------------------------------------------------------------------
    def _send_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    def _recv_exact(self, n: int) -> bytes:
        raise NotImplementedError

    # -- framing -----------------------------------------------------------------------------
    def send(self, kind: FrameKind, payload: bytes | bytearray | memoryview) -> None:
        payload = bytes(payload)
        if len(payload) > self.max_payload:
            raise ProtocolError(f"refusing to send a {len(payload)}-byte {kind.name} message "
                                f"(limit {self.max_payload})")
        frame = HEADER.pack(MAGIC, VERSION, int(kind), len(payload)) + payload
        self._send_bytes(frame)
        self.bytes_sent += len(frame)

    def recv(self, expected: FrameKind, max_payload: int | None = None) -> bytes:
        return self.recv_any((expected,), max_payload)[1]

    def recv_any(self, expected: tuple[FrameKind, ...], max_payload: int | None = None
                 ) -> tuple[FrameKind, bytes]:
        """The next frame, which must be of one of the `expected` kinds."""
        magic, version, kind, length = HEADER.unpack(self._recv_exact(HEADER.size))
        limit = self.max_payload if max_payload is None else min(max_payload, self.max_payload)
        if magic != MAGIC:
            raise ProtocolError("malformed message: bad magic bytes")
        if version != VERSION:
            raise ProtocolError(f"malformed message: protocol version {version}, expected {VERSION}")
        match = next((k for k in expected if k.code == kind), None)
        if match is None:
            name = kind_named(kind)
            want = " or ".join(k.name for k in expected)
            raise ProtocolError(f"unexpected message: {name}, expected {want}")
        if length > limit:
            raise ProtocolError(f"{match.name} message of {length} bytes exceeds the "
                                f"limit of {limit}")
        payload = self._recv_exact(length)
        self.bytes_received += HEADER.size + length
        return match, payload

    def close(self) -> None:
        pass


class InProcessChannel(Channel):
    """An end of an in-memory channel; `pair()` makes two connected ends."""

    def __init__(self, inbox: queue.Queue, outbox: queue.Queue, timeout: float | None,
                 max_payload: int = CHANNEL_FRAME_BYTES):
        super().__init__(max_payload)
        self._inbox, self._outbox, self._timeout = inbox, outbox, timeout
        self._buffer = bytearray()

    @classmethod
    def pair(cls, timeout: float | None = 600.0,
             max_payload: int = CHANNEL_FRAME_BYTES) -> tuple["InProcessChannel", "InProcessChannel"]:
        a, b = queue.Queue(), queue.Queue()
        return cls(a, b, timeout, max_payload), cls(b, a, timeout, max_payload)

    def _send_bytes(self, data: bytes) -> None:
        self._outbox.put(data)

    def close(self) -> None:
        """Tell the peer: its pending and future receives fail at once."""
        self._outbox.put(None)

    def _recv_exact(self, n: int) -> bytes:
        while len(self._buffer) < n:
            try:
                chunk = self._inbox.get(timeout=self._timeout)
            except queue.Empty:
                raise ProtocolError(f"timed out waiting for {n - len(self._buffer)} bytes") from None
            if chunk is None:
                self._inbox.put(None)            # stay closed for later receives
                raise PeerClosed("the other party closed the channel")
            self._buffer += chunk
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out


class SocketChannel(Channel):
    """An end of a channel over a connected stream socket."""

    def __init__(self, sock: socket.socket, timeout: float | None = 600.0,
                 max_payload: int = CHANNEL_FRAME_BYTES):
        super().__init__(max_payload)
        self.sock = sock
        sock.settimeout(timeout)

    def _send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        try:
            while got < n:
                k = self.sock.recv_into(view[got:], n - got)
                if k == 0:
                    raise PeerClosed(f"connection closed with {n - got} bytes of a message missing")
                got += k
        except socket.timeout:
            raise ProtocolError(f"timed out waiting for {n - got} bytes") from None
        return bytes(buf)

    def close(self) -> None:
        self.sock.close()

"""Channels between the parties: typed, length-checked frames, byte counters, no pickle.

A frame is `b"VL" | version (1 byte) | kind (1 byte) | payload length (8 bytes, big endian) |
payload`. The receiver names the kind it expects and the largest payload it will accept;
anything else (wrong magic or version, unexpected kind, oversized frame, short read) raises
`ProtocolError` before the payload is used. Payload layouts live in `messages.py`.

Two transports share the framing: `InProcessChannel` (a pair of queues, for tests and for
running several parties in one process) and `SocketChannel` (any connected stream socket:
TCP, a socketpair between processes, or a Unix socket). A SocketChannel bounds every frame in
time and grows its receive buffer as bytes arrive (see its docstring).
"""
from __future__ import annotations

import queue
import socket
import struct
import time

from veil.backends.yao.framing.kinds import FrameKind, kind_named
from veil.util.errors import ProtocolError  # A malformed, unexpected or oversized message.

MAGIC = b"VL"
VERSION = 1
HEADER = struct.Struct(">2sBBQ")
CHANNEL_FRAME_BYTES = 1 << 32          # 4 GiB: a whole layer of garbled tables fits
FRAME_SECONDS = 30.0                   # a frame may take this long plus its size at...
FRAME_RATE = 1 << 14                   # ...16 KiB/s (the service's own: service/limits.py)
READ_CHUNK = 1 << 16                   # the most one read adds to a receive buffer


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

    def mark_authenticated(self) -> None:
        """The session layer now knows who is on the other end: a transport that applies a
        login deadline lifts it (a server also stops treating the peer as a stranger)."""

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
    """An end of a channel over a connected stream socket.

    Every wait for the peer ends at the earliest of three clocks, so that a peer trickling a
    byte now and then cannot hold the channel however well it times its bytes:
    - silence: no byte for `timeout` seconds (a peer may compute this long between frames);
    - the frame: once a frame's first byte has come, the whole frame, header and payload,
      must arrive within `frame_seconds` plus its size at `frame_rate` bytes/s (a gigabyte
      of garbled tables on a slow link passes, a byte per second does not);
    - `set_deadline(at, why)`: one absolute time for everything until `mark_authenticated`
      (a server's login deadline).
    A send may take `timeout` plus its size at `frame_rate`. A receive buffer grows as bytes
    arrive, capped by the announced length (itself capped by `max_payload`): announcing a
    frame costs nothing until its bytes come.

    `waiting_since` is when the channel began waiting on its peer for the current frame
    (None while the session computes): a server evicts the stranger that waited longest.
    After a refused frame the stream is out of step and the channel is not read again.
    """

    def __init__(self, sock: socket.socket, timeout: float | None = 600.0,
                 max_payload: int = CHANNEL_FRAME_BYTES, *, frame_seconds: float = FRAME_SECONDS,
                 frame_rate: float = FRAME_RATE):
        super().__init__(max_payload)
        self.sock, self.timeout = sock, timeout
        self.frame_seconds, self.frame_rate = frame_seconds, frame_rate
        self.waiting_since: float | None = None
        self._deadline: tuple[float, str] | None = None
        self._frame_start: float | None = None      # a header came, its payload is next
        sock.settimeout(timeout)

    def set_deadline(self, at: float, why: str) -> None:
        """Every wait ends by time.monotonic() `at`, with ProtocolError("timed out: why")."""
        self._deadline = (at, f"timed out: {why}")

    def mark_authenticated(self) -> None:
        self._deadline = None

    def _wait(self, limits: list[tuple[float, str]]) -> str:
        """Set the socket's timeout to the nearest limit (the deadline's included) and return
        what to say when it passes; ProtocolError if it already has."""
        if self._deadline is not None:
            limits.append(self._deadline)
        at, why = min(limits)
        left = at - time.monotonic()
        if left <= 0:
            raise ProtocolError(why)
        self.sock.settimeout(None if left == float("inf") else left)
        return why

    def _silence(self) -> float:
        return time.monotonic() + (float("inf") if self.timeout is None else self.timeout)

    def _send_bytes(self, data: bytes) -> None:
        since = self.waiting_since
        self.waiting_since = since or time.monotonic()
        try:
            self._wait([(self._silence() + len(data) / self.frame_rate,
                         "timed out sending: the peer is not reading")])
            self.sock.sendall(data)         # the socket timeout bounds the whole sendall
        finally:
            self.waiting_since = since

    def _recv_exact(self, n: int) -> bytes:
        header, start = self._frame_start is None, self._frame_start
        if header:
            self.waiting_since = time.monotonic()
        self._frame_start = None
        size = n if header else HEADER.size + n        # of the frame, once this read is done
        allowed = self.frame_seconds + size / self.frame_rate
        late = f"timed out: {'a header' if header else f'a frame of {size} bytes'} took " \
               f"longer than {allowed:.3g} s to arrive"
        buf, chunk = bytearray(), memoryview(bytearray(min(n, READ_CHUNK)))
        try:
            while len(buf) < n:
                want = n - len(buf)
                limits = [(self._silence(), f"timed out waiting for {want} bytes")]
                if start is not None:
                    limits.append((start + allowed, late))
                why = self._wait(limits)
                try:
                    k = self.sock.recv_into(chunk, min(want, len(chunk)))
                except socket.timeout:
                    raise ProtocolError(why) from None
                if k == 0:
                    raise PeerClosed(f"connection closed with {want} bytes of a message missing")
                if start is None:
                    start = time.monotonic()        # the frame's first byte
                buf += chunk[:k]
        finally:
            if not header:
                self.waiting_since = None
        if header:
            self._frame_start = start
        return bytes(buf)

    def close(self) -> None:
        self.sock.close()

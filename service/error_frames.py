"""ERROR frames: a party that gives up tells its peer why in one line of UTF-8, and the peer
raises that reason as `RemoteError` instead of "unexpected message: ERROR".

Only messages meant for the peer are sent: a `ProtocolError` (what the peer sent was refused)
or a `ServiceError` (a refusal such as an unknown model), but not a `StoreError` (its message
may name the server's files); anything else is an internal fault whose details stay in the
local log.
"""
from __future__ import annotations

import ssl

from veil.backends.yao.framing.channel import (HEADER, MAGIC, VERSION, Channel, PeerClosed,
                                               ProtocolError, SocketChannel)
from veil.backends.yao.framing.kinds import FrameKind
from veil.service.frames import ServiceKind
from veil.service.store_schema import StoreError
from veil.util.errors import ServiceError

MAX_REASON_CHARS = 500          # at most 2000 bytes of UTF-8
ERROR_LIMIT = 4096              # the largest ERROR payload a party reads


class RemoteError(ProtocolError):
    """The peer sent an ERROR frame; the message is its one-line reason."""


def one_line(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """Whitespace runs (newlines too) become one space, other control characters '?'."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def meant_for_peer(exc: BaseException) -> bool:
    """A refusal whose message the peer may read (and a server logs as a warning, not a fault)."""
    return isinstance(exc, (ProtocolError, ServiceError)) and not isinstance(exc, StoreError)


def public_reason(exc: BaseException) -> str:
    if meant_for_peer(exc):
        return one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "timed out"
    return "internal server error"


def send_error(channel: Channel, reason: str) -> None:
    channel.send(ServiceKind.ERROR, one_line(reason).encode())


class _Replay(Channel):
    """Yields an already-read header first, so the frame passes `Channel.recv`'s own checks."""

    def __init__(self, channel: Channel, header: bytes):
        super().__init__(channel.max_payload)
        self._channel, self._header = channel, header

    def _recv_exact(self, n: int) -> bytes:
        if self._header is not None:
            header, self._header = self._header, None
            return header
        return self._channel._recv_exact(n)


def recv_any_or_error(channel: Channel, kinds: tuple[FrameKind, ...],
                      max_payload: int | None = None) -> tuple[FrameKind, bytes]:
    """`channel.recv_any(kinds, max_payload)`, except that an ERROR frame raises RemoteError."""
    header = channel._recv_exact(HEADER.size)
    magic, version, got, length = HEADER.unpack(header)
    if (got == ServiceKind.ERROR.code and ServiceKind.ERROR not in kinds and magic == MAGIC
            and version == VERSION):
        if length > ERROR_LIMIT:
            raise ProtocolError(f"ERROR message of {length} bytes exceeds the limit of "
                                f"{ERROR_LIMIT}")
        reason = channel._recv_exact(length).decode("utf-8", "replace")
        channel.bytes_received += HEADER.size + length
        raise RemoteError(one_line(reason) or "the peer reported an error without a reason")
    replay = _Replay(channel, header)
    out = Channel.recv_any(replay, kinds, max_payload)
    channel.bytes_received += replay.bytes_received
    return out


def recv_or_error(channel: Channel, kind: FrameKind, max_payload: int | None = None) -> bytes:
    """`channel.recv(kind, max_payload)`, except that an ERROR frame raises `RemoteError`."""
    return recv_any_or_error(channel, (kind,), max_payload)[1]


class ServiceChannel(SocketChannel):
    """A SocketChannel whose receives surface the peer's ERROR frames as `RemoteError` and
    whose transport failures (reset, broken pipe, TLS alerts) are `ProtocolError`s."""

    def recv_any(self, expected: tuple[FrameKind, ...], max_payload: int | None = None
                 ) -> tuple[FrameKind, bytes]:
        return recv_any_or_error(self, expected, max_payload)

    def _recv_exact(self, n: int) -> bytes:
        try:
            return super()._recv_exact(n)
        except ssl.SSLError as e:
            raise ProtocolError(f"TLS error: {e.reason or e}") from e
        except OSError as e:
            raise PeerClosed(f"connection lost: {e.strerror or e}") from e

    def _send_bytes(self, data: bytes) -> None:
        try:
            super()._send_bytes(data)
        except TimeoutError:
            raise ProtocolError("timed out sending: the peer is not reading") from None
        except ssl.SSLError as e:
            raise ProtocolError(f"TLS error: {e.reason or e}") from e
        except OSError as e:
            raise PeerClosed(f"connection lost: {e.strerror or e}") from e

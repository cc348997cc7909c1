"""The client end of a service connection: "HOST:PORT" in, a checked channel out.

The channel is a `ServiceChannel`: a server's ERROR frame surfaces as `RemoteError` with the
server's one-line reason wherever another message was expected.
"""
from __future__ import annotations

import socket
import ssl

from veil.service.error_frames import RemoteError, ServiceChannel, recv_or_error
from veil.service.limits import FRAME_BYTES_BEFORE_LOGIN, PEER_SILENCE_SECONDS
from veil.util.errors import UsageError

__all__ = ["RemoteError", "ServiceChannel", "connect", "parse_address",
           "recv_or_error"]



def parse_address(host_port: str) -> tuple[str, int]:
    """"HOST:PORT" or "[IPV6]:PORT" -> (host, port); UsageError for anything else (a --cloud
    option)."""
    text = host_port.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
        if ":" in host:
            raise UsageError(f"malformed address {host_port!r}: write an IPv6 address as "
                             "[ADDRESS]:PORT")
    if not (sep and host and port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise UsageError(f"malformed address {host_port!r}: expected HOST:PORT with a port "
                         "in 1..65535")
    return host, int(port)


def _reason(e: OSError) -> str:
    return (getattr(e, "verify_message", None) or getattr(e, "reason", None) or e.strerror
            or str(e) or type(e).__name__)


def connect(host_port: str, tls_context: ssl.SSLContext | None = None,
            timeout: float = PEER_SILENCE_SECONDS,
            max_payload: int = FRAME_BYTES_BEFORE_LOGIN) -> ServiceChannel:
    """Connect (and complete the TLS handshake, verifying the server, when a context is
    given); `timeout` bounds the connect and every later wait for the server."""
    host, port = parse_address(host_port)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        raise ConnectionError(f"cannot connect to {host_port}: {_reason(e)}") from e
    if tls_context is not None:
        try:
            sock = tls_context.wrap_socket(sock, server_hostname=host)
        except OSError as e:                    # ssl.SSLError is an OSError
            sock.close()
            raise ConnectionError(f"TLS handshake with {host_port} failed: {_reason(e)}") from e
    return ServiceChannel(sock, timeout, max_payload)

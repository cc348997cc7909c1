"""The client end of a service connection: "HOST:PORT" and a trust (service/trust.py) in, a
checked channel to the cloud that trust names out.

Order of events: TCP connect, TLS handshake, the trust's check of the server's certificate,
and only then a channel the caller may send on; a refused server has received nothing but the
handshake. Without TLS (PlaintextTrust, or None from library code and tests) only a loopback
address is allowed, checked before connecting and again on the connected socket.

A refused, reset or timed-out TCP connect and a connection dropped during the handshake (a
cloud that is starting or restarting, a full accept queue) are retried with jittered
exponential backoff, a bounded number of times. Nothing else is: not a failed certificate
check, not a refused login, nothing once the channel is handed over.

The channel is a `ServiceChannel`: a server's ERROR frame surfaces as `RemoteError` with the
server's one-line reason wherever another message was expected.
"""
from __future__ import annotations

import random
import socket
import ssl
import time

from veil.service.error_frames import RemoteError, ServiceChannel, recv_or_error
from veil.service.known_clouds import canonical_address
from veil.service.limits import CONNECT_SECONDS, FRAME_BYTES_BEFORE_LOGIN, PEER_SILENCE_SECONDS
from veil.service.trust import CloudTrust, ContextTrust, PlaintextTrust, is_loopback
from veil.util.errors import UsageError

__all__ = ["RemoteError", "ServiceChannel", "connect", "parse_address",
           "recv_or_error", "retry_delays"]

CONNECT_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 8.0
_RETRYABLE = (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError,
              BrokenPipeError, TimeoutError)
_DROPPED_IN_HANDSHAKE = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                         ssl.SSLEOFError, ssl.SSLZeroReturnError)
_sleep = time.sleep                   # tests replace it


class _Transient(Exception):
    """A connection attempt that may succeed if repeated; carries the reason."""


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


def retry_delays(attempts: int = CONNECT_ATTEMPTS, rng: random.Random | None = None) -> list[float]:
    """The waits between `attempts` tries: FIRST_RETRY_SECONDS doubling, each scaled by a
    random factor in [0.5, 1.5) so that clients cut off together do not return together,
    capped at MAX_RETRY_SECONDS."""
    rng = rng or random.SystemRandom()
    return [min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** k * rng.uniform(0.5, 1.5))
            for k in range(attempts - 1)]


def _as_trust(trust: CloudTrust | ssl.SSLContext | None) -> CloudTrust:
    if isinstance(trust, CloudTrust):
        return trust
    return PlaintextTrust() if trust is None else ContextTrust(trust)


def connect(host_port: str, trust: CloudTrust | ssl.SSLContext | None = None,
            timeout: float = PEER_SILENCE_SECONDS,
            max_payload: int = FRAME_BYTES_BEFORE_LOGIN,
            attempts: int = CONNECT_ATTEMPTS) -> ServiceChannel:
    """A channel to the cloud at `host_port` that `trust` trusts (a CloudTrust; an SSLContext
    is trusted to verify on its own; None is plaintext to loopback). `timeout` bounds the
    handshake and every later wait for the server; the TCP connect takes at most
    CONNECT_SECONDS a try."""
    host, port = parse_address(host_port)
    trust = _as_trust(trust)
    if trust.plaintext and not is_loopback(host):
        raise UsageError(f"refusing to connect to {host_port} without TLS: plaintext is only "
                         "for loopback addresses (127.0.0.1, ::1, localhost)")
    address = canonical_address(host, port)
    delays = retry_delays(attempts)
    for attempt in range(1, attempts + 1):
        try:
            return _connect_once(host, port, address, trust, timeout, max_payload)
        except _Transient as e:
            if attempt == attempts:
                raise ConnectionError(f"cannot connect to {host_port}: {e} (tried {attempts} "
                                      "times)") from e.__cause__
            delay = delays[attempt - 1]
            trust.notify(f"warning: cannot connect to {host_port} ({e}); trying again in "
                         f"{delay:.1f} s ({attempt + 1} of {attempts})")
            _sleep(delay)
    raise UsageError(f"connect needs at least one attempt, got {attempts}")


def _connect_once(host: str, port: int, address: str, trust: CloudTrust, timeout: float,
                  max_payload: int) -> ServiceChannel:
    try:
        sock = socket.create_connection((host, port), timeout=min(timeout, CONNECT_SECONDS))
    except _RETRYABLE as e:
        raise _Transient(_reason(e)) from e
    except OSError as e:
        raise ConnectionError(f"cannot connect to {address}: {_reason(e)}") from e
    try:
        sock.settimeout(timeout)
        if trust.plaintext:
            if not is_loopback(sock.getpeername()[0]):
                raise UsageError(f"refusing plaintext to {address}: it resolved to "
                                 f"{sock.getpeername()[0]}, not a loopback address")
            return ServiceChannel(sock, timeout, max_payload)
        sock = _handshake(sock, host, address, trust)
        trust.check(address, sock.getpeercert(binary_form=True))
        return ServiceChannel(sock, timeout, max_payload)
    except BaseException:
        sock.close()
        raise


def _handshake(sock: socket.socket, host: str, address: str,
               trust: CloudTrust) -> ssl.SSLSocket:
    try:
        return trust.context().wrap_socket(sock, server_hostname=host)
    except _DROPPED_IN_HANDSHAKE as e:
        raise _Transient(f"dropped during the TLS handshake: {_reason(e)}") from e
    except OSError as e:                        # ssl.SSLError is an OSError
        raise ConnectionError(f"TLS handshake with {address} failed: {_reason(e)}") from e

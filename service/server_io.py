"""The server's socket chores, each with a bound: cutting a connection off, closing one gently
after an ERROR frame, a TLS handshake that must finish by a deadline (a handshake done with
a plain per-read timeout lets a peer trickling its ClientHello stay for ever), and telling a
refused peer why; and how the log names a peer, an address and a fault."""
from __future__ import annotations

import ipaddress
import selectors
import socket
import ssl
import threading
import time
import traceback
from pathlib import Path

from veil.backends.yao.framing.channel import MAGIC
from veil.service.error_frames import ServiceChannel, send_error
from veil.util.errors import ProtocolError

LINGER_SECONDS = 1.0                # see close_after_error
LINGER_BYTES = 1 << 20


def describe(peer) -> str:
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def cut(sock: socket.socket, how: int = socket.SHUT_RDWR) -> None:
    """shutdown(2) on the descriptor, below TLS (an SSLSocket's own shutdown drops its state):
    a session blocked reading it sees the end of the stream at once."""
    try:
        socket.socket.shutdown(sock, how)
    except OSError:
        pass


def close_after_error(sock: socket.socket) -> None:
    """Closing a socket with unread input makes the kernel send a reset, which can destroy the
    ERROR frame before the peer reads it: send FIN first and drain the input for a moment."""
    cut(sock, socket.SHUT_WR)
    deadline, drained = time.monotonic() + LINGER_SECONDS, 0
    try:
        while drained < LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = socket.socket.recv(sock, 65536)       # raw bytes, discarded
            if not chunk:
                break
            drained += len(chunk)
    except OSError:
        pass
    sock.close()


def _left(end: float, what: str) -> float:
    left = end - time.monotonic()
    if left <= 0:
        raise ProtocolError(f"timed out: {what}")
    return left


def tls_handshake(sock: socket.socket, context: ssl.SSLContext, end: float, what: str,
                  adopt=lambda tls: None) -> ssl.SSLSocket | None:
    """The server side of a TLS handshake, done by time.monotonic() `end` (else ProtocolError
    "timed out: what"); None, with `sock` untouched, when the peer speaks this service's
    plain frames instead. `adopt` gets the wrapped socket as soon as it exists (the server
    must be able to cut it off mid-handshake)."""
    sock.settimeout(_left(end, what))
    try:
        if sock.recv(1, socket.MSG_PEEK) == MAGIC[:1]:        # a TLS record starts 0x16
            return None
    except socket.timeout:
        raise ProtocolError(f"timed out: {what}") from None
    tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    adopt(tls)
    tls.setblocking(False)
    with selectors.DefaultSelector() as sel:
        sel.register(tls, selectors.EVENT_READ)
        while True:
            try:
                tls.do_handshake()
                return tls
            except ssl.SSLWantReadError:
                sel.modify(tls, selectors.EVENT_READ)
            except ssl.SSLWantWriteError:
                sel.modify(tls, selectors.EVENT_WRITE)
            sel.select(_left(end, what))


class Refusals:
    """Tells a refused peer why in one line when that is cheap: at most `at_once` at a time,
    each in its own thread bounded by `seconds` (TLS handshake included); beyond that a
    refused connection is just closed, which a client retrying with backoff handles alike."""

    def __init__(self, tls_context: ssl.SSLContext | None, at_once: int, seconds: float):
        self.tls_context, self.seconds = tls_context, seconds
        self._free = threading.BoundedSemaphore(at_once)

    def refuse(self, sock: socket.socket, reason: str) -> None:
        if not self._free.acquire(blocking=False):
            sock.close()
            return
        try:
            threading.Thread(target=self._tell, args=(sock, reason), daemon=True,
                             name="veil-refusal").start()
        except RuntimeError:
            sock.close()
            self._free.release()

    def _tell(self, sock: socket.socket, reason: str) -> None:
        held = [sock]
        try:
            if self.tls_context is not None:
                tls_handshake(sock, self.tls_context, time.monotonic() + self.seconds,
                              "TLS handshake of a refused connection", adopt=held.append)
            send_error(ServiceChannel(held[-1], self.seconds), reason)
        except (ProtocolError, OSError):
            pass
        finally:
            close_after_error(held[-1])
            self._free.release()

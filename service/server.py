"""A threaded TCP server, generic over what a session does: every connection gets a thread
that runs `handler(channel, peer_address)` on a `ServiceChannel` (TLS-wrapped when a context
is given). Sessions are synchronous and CPU heavy, so plain threads fit better than asyncio.

One connection's failure never touches another: whatever a handler raises (a hostile frame,
a garbage TLS handshake, a timeout, a bug) is logged as one line, the peer gets an ERROR frame
with a one-line reason when the connection can still carry one (error_frames.public_reason
decides what the peer may read), and that connection alone is closed.

At most `max_connections` sessions run at once; further clients wait in the kernel's accept
backlog (bounded by their own connect timeout) rather than getting a thread each. `timeout`
bounds every wait for a peer's bytes, the TLS handshake included. Before authentication a
peer is a stranger, so `max_payload` starts small; a handler may raise `channel.max_payload`
once it knows who is on the other end.
"""
from __future__ import annotations

import ipaddress
import itertools
import logging
import selectors
import signal
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from veil.backends.yao.framing.channel import MAGIC, PeerClosed, ProtocolError
from veil.service.error_frames import (RemoteError, ServiceChannel, ServiceError,
                                       meant_for_peer, one_line, public_reason, send_error)
from veil.service.limits import FRAME_BYTES_BEFORE_LOGIN, MAX_CONNECTIONS, PEER_SILENCE_SECONDS

log = logging.getLogger(__name__)

Handler = Callable[[ServiceChannel, tuple], None]

ERROR_SEND_TIMEOUT = 2.0            # a peer that does not read its ERROR frame is not waited for
LINGER_SECONDS = 1.0                # see _close_after_error
LINGER_BYTES = 1 << 20


def _describe(peer) -> str:
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def _cut(sock: socket.socket, how: int) -> None:
    """shutdown(2) on the descriptor, below TLS (an SSLSocket's own shutdown drops its state)."""
    try:
        socket.socket.shutdown(sock, how)
    except OSError:
        pass


def _close_after_error(sock: socket.socket) -> None:
    """Closing a socket with unread input makes the kernel send a reset, which can destroy the
    ERROR frame before the peer reads it: send FIN first and drain the input for a moment."""
    _cut(sock, socket.SHUT_WR)
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


class Server:
    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0, *,
                 tls_context: ssl.SSLContext | None = None,
                 max_payload: int = FRAME_BYTES_BEFORE_LOGIN,
                 timeout: float = PEER_SILENCE_SECONDS, max_connections: int = MAX_CONNECTIONS):
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        if tls_context is not None and not isinstance(tls_context, ssl.SSLContext):
            raise TypeError("tls_context must be an ssl.SSLContext (see veil.service.tls)")
        self.handler, self.tls_context = handler, tls_context
        self.max_payload, self.timeout = max_payload, timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._listener = socket.create_server((host, port), family=family,
                                                  backlog=max(2 * max_connections, 16))
        except OSError as e:
            raise OSError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        self._listener.setblocking(False)
        self._address = self._listener.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._ids = itertools.count(1)
        self._active: dict[int, socket.socket] = {}
        self._idle = threading.Condition()
        self._stopping, self._serving, self._loop_done = (threading.Event(), threading.Event(),
                                                          threading.Event())
        if tls_context is None and not _is_loopback(host):
            log.warning("listening on %s without TLS: anyone on the network can read and "
                        "alter the traffic", _describe(self.address))

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound: port 0 asks the OS for a free one."""
        return self._address

    @property
    def active_connections(self) -> int:
        with self._idle:
            return len(self._active)

    # -- accept loop --------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Accept until `request_stop` or `shutdown`; call once, from one thread."""
        self._serving.set()
        try:
            if self._stopping.is_set():     # shut down before it started: touch nothing
                return
            log.info("serving on %s%s", _describe(self.address),
                     " (TLS)" if self.tls_context else "")
            with selectors.DefaultSelector() as sel:
                sel.register(self._listener, selectors.EVENT_READ)
                sel.register(self._wake_r, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    if not self._slots.acquire(timeout=0.2):
                        continue            # every slot busy: newcomers wait in the backlog
                    if not self._accept_one(sel):
                        self._slots.release()
        finally:
            self._loop_done.set()

    def _accept_one(self, sel: selectors.BaseSelector) -> bool:
        """True when a connection thread took over the slot."""
        sel.select()
        if self._stopping.is_set():
            return False
        try:
            sock, peer = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return False
        except OSError as e:                # e.g. out of file descriptors: back off, go on
            log.error("accept failed: %s", e.strerror or e)
            time.sleep(0.1)
            return False
        cid = next(self._ids)
        with self._idle:
            self._active[cid] = sock
        try:
            threading.Thread(target=self._serve, args=(cid, sock, peer), daemon=True,
                             name=f"veil-connection-{cid}").start()
        except RuntimeError as e:           # no more threads; the caller frees the slot
            log.error("connection %d from %s refused: %s", cid, _describe(peer), e)
            with self._idle:
                del self._active[cid]
            sock.close()
            return False
        return True

    # -- one connection -----------------------------------------------------------------------
    def _serve(self, cid: int, sock: socket.socket, peer) -> None:
        label = f"connection {cid} from {_describe(peer)}"
        channel: ServiceChannel | None = None
        try:
            try:
                sock.settimeout(self.timeout)
                if self.tls_context is not None:
                    if sock.recv(1, socket.MSG_PEEK) == MAGIC[:1]:   # a TLS record starts 0x16
                        channel = ServiceChannel(sock, self.timeout, self.max_payload)
                        raise ServiceError("this server requires TLS")
                    # handshake by hand: on failure the socket stays ours to close gently
                    sock = self.tls_context.wrap_socket(sock, server_side=True,
                                                        do_handshake_on_connect=False)
                    with self._idle:
                        self._active[cid] = sock
                    sock.do_handshake()
                channel = ServiceChannel(sock, self.timeout, self.max_payload)
                self.handler(channel, peer)
            except Exception as e:          # one connection's failure is never the server's
                self._report(label, e, channel)
                _close_after_error(sock)
            else:
                log.info("%s done: %d bytes in, %d out", label, channel.bytes_received,
                         channel.bytes_sent)
                sock.close()
        finally:
            self._forget(cid, sock)

    def _report(self, label: str, exc: Exception, channel: ServiceChannel | None) -> None:
        what = one_line(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, OSError) or meant_for_peer(exc):
            log.warning("%s closed: %s", label, what)
        else:
            log.error("%s failed: %s%s", label, what, _where(exc))
        if channel is None or isinstance(exc, (PeerClosed, RemoteError)):
            return                          # no usable stream, or the peer already gave up
        try:
            channel.sock.settimeout(ERROR_SEND_TIMEOUT)
            send_error(channel, public_reason(exc))
        except (ProtocolError, OSError):
            pass

    def _forget(self, cid: int, sock: socket.socket) -> None:
        sock.close()
        with self._idle:
            if self._active.pop(cid, None) is not None:
                self._slots.release()
            self._idle.notify_all()

    # -- stopping -----------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Stop accepting soon; returns at once (safe in a signal handler)."""
        self._stopping.set()
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def shutdown(self, grace: float = 5.0) -> None:
        """Stop accepting, give running sessions `grace` seconds, then cut them off. Call it
        from another thread than serve_forever's (or after serve_forever returned)."""
        self.request_stop()
        if self._serving.is_set():
            self._loop_done.wait()
        self._listener.close()
        with self._idle:
            if not self._idle.wait_for(lambda: not self._active, timeout=grace):
                log.warning("cutting off %d running session(s)", len(self._active))
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            with self._idle:
                if not self._active:
                    break
                socks = list(self._active.values())
            for s in socks:                 # the session's next read fails with PeerClosed
                _cut(s, socket.SHUT_RDWR)
            with self._idle:
                self._idle.wait_for(lambda: not self._active, timeout=0.1)
        self._wake_r.close()
        self._wake_w.close()

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="veil-accept", daemon=True)
        thread.start()
        self._serving.wait()
        return thread

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def run_until_signal(server: Server, grace: float = 5.0) -> int | None:
    """Serve in this (main) thread until SIGTERM or SIGINT, then shut down gracefully;
    returns the signal that stopped it, or None."""
    received: list[int] = []

    def on_signal(signum, _frame):
        received.append(signum)
        server.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.serve_forever()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if received:
            log.info("%s received: stopping", signal.Signals(received[0]).name)
        server.shutdown(grace)
    return received[0] if received else None

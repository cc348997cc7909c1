"""A threaded TCP server, generic over what a session does: every connection gets a thread
that runs `handler(channel, peer_address)` on a `ServiceChannel` (TLS-wrapped when a context
is given). Sessions are synchronous and CPU heavy, so plain threads fit better than asyncio.

One connection's failure never touches another: whatever a handler raises (a hostile frame,
a garbage TLS handshake, a timeout, a bug) is logged as one line, the peer gets an ERROR frame
with a one-line reason when the connection can still carry one (error_frames.public_reason
decides what the peer may read), and that connection alone is closed.

Every connection is bounded (numbers in limits.py, the design in docs/service.md,
"Connections"): each frame has a deadline (`frame_seconds` plus its size at `frame_rate`), no
wait is longer than `timeout`, and the login, from accept (TLS handshake included) until the
handler calls `channel.mark_authenticated()`, has `login_seconds`. At most `max_connections`
run at once, at most `max_per_address` from one address; who makes room for whom is
admission.py's (a stranger stalled on its own bytes is evicted before an honest newcomer is
kept out). Before authentication a peer is a stranger, so `max_payload` starts small; a
handler may raise `channel.max_payload` once it knows who is on the other end.
"""
from __future__ import annotations

import itertools
import logging
import selectors
import signal
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable

from veil.backends.yao.framing.channel import PeerClosed, ProtocolError
from veil.service.admission import Admission, SessionChannel, Slot
from veil.service.error_frames import (RemoteError, ServiceChannel, ServiceError,
                                       meant_for_peer, one_line, public_reason, send_error)
from veil.service.limits import (FRAME_BYTES_BEFORE_LOGIN, FRAME_MIN_BYTES_PER_SECOND,
                                 FRAME_SECONDS, LOGIN_SECONDS, MAX_CONNECTIONS,
                                 MAX_CONNECTIONS_PER_ADDRESS, NEWCOMER_HOLD_SECONDS,
                                 NEWCOMERS_HELD, PEER_SILENCE_SECONDS, REFUSALS_AT_ONCE,
                                 STRANGER_EVICTABLE_SECONDS)
from veil.service.server_io import (Refusals, close_after_error, cut, describe, is_loopback,
                                    tls_handshake, where)

log = logging.getLogger(__name__)

Handler = Callable[[ServiceChannel, tuple], None]

ERROR_SEND_TIMEOUT = 2.0            # a peer that does not read its ERROR frame is not waited for


class Server:
    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0, *,
                 tls_context: ssl.SSLContext | None = None,
                 max_payload: int = FRAME_BYTES_BEFORE_LOGIN,
                 timeout: float = PEER_SILENCE_SECONDS, max_connections: int = MAX_CONNECTIONS,
                 max_per_address: int = MAX_CONNECTIONS_PER_ADDRESS,
                 login_seconds: float | None = LOGIN_SECONDS,
                 frame_seconds: float = FRAME_SECONDS,
                 frame_rate: float = FRAME_MIN_BYTES_PER_SECOND,
                 evict_after: float = STRANGER_EVICTABLE_SECONDS):
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        if tls_context is not None and not isinstance(tls_context, ssl.SSLContext):
            raise TypeError("tls_context must be an ssl.SSLContext (see veil.service.tls)")
        self.handler, self.tls_context = handler, tls_context
        self.max_payload, self.timeout, self.login_seconds = max_payload, timeout, login_seconds
        self.frame_seconds, self.frame_rate = frame_seconds, frame_rate
        self._admission = Admission(max_connections, max_per_address, evict_after)
        self._refusals = Refusals(tls_context, REFUSALS_AT_ONCE, ERROR_SEND_TIMEOUT)
        self._held: deque[tuple[int, socket.socket, tuple, float]] = deque()
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
        self._ids = itertools.count(1)
        self._stopping, self._serving, self._loop_done = (threading.Event(), threading.Event(),
                                                          threading.Event())
        if tls_context is None and not is_loopback(host):
            log.warning("listening on %s without TLS: anyone on the network can read and "
                        "alter the traffic", describe(self.address))

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound: port 0 asks the OS for a free one."""
        return self._address

    @property
    def active_connections(self) -> int:
        return self._admission.count()

    # -- accept loop --------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Accept until `request_stop` or `shutdown`; call once, from one thread."""
        self._serving.set()
        try:
            if self._stopping.is_set():     # shut down before it started: touch nothing
                return
            log.info("serving on %s%s", describe(self.address),
                     " (TLS)" if self.tls_context else "")
            with selectors.DefaultSelector() as sel:
                sel.register(self._listener, selectors.EVENT_READ)
                sel.register(self._wake_r, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    self._retry_held()
                    pause = 0.05 if self._held else 0.2
                    if not self._admission.has_room():
                        with self._admission.changed:   # newcomers wait in the backlog
                            self._admission.changed.wait(pause)
                        continue
                    ready = sel.select(pause)
                    if not self._stopping.is_set() and any(
                            key.fileobj is self._listener for key, _ in ready):
                        self._accept_one()
        finally:
            for _, sock, _, _ in self._held:
                sock.close()
            self._loop_done.set()

    def _accept_one(self) -> None:
        try:
            sock, peer = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as e:                # e.g. out of file descriptors: back off, go on
            log.error("accept failed: %s", e.strerror or e)
            time.sleep(0.1)
            return
        self._place(next(self._ids), sock, peer, time.monotonic())

    def _retry_held(self) -> None:
        held, self._held = self._held, deque()
        for newcomer in held:               # in order of arrival
            self._place(*newcomer)

    def _place(self, cid: int, sock: socket.socket, peer: tuple, since: float) -> None:
        """Admit, hold for a moment (admission says a slot is about to free up), or refuse."""
        decision = self._admission.admit(cid, sock, peer)
        if decision.slot is None:
            if (decision.later and len(self._held) < NEWCOMERS_HELD
                    and time.monotonic() - since < NEWCOMER_HOLD_SECONDS):
                self._held.append((cid, sock, peer, since))
                return
            log.warning("connection %d from %s refused: %s", cid, describe(peer),
                        decision.refusal)
            self._refusals.refuse(sock, decision.refusal)
            return
        if (victim := decision.victim) is not None:
            log.warning("connection %d from %s evicted: a stranger that waited %.1f s on its "
                        "own bytes, for connection %d", victim.cid, describe(victim.peer),
                        decision.waited, cid)
            cut(victim.sock)
        try:
            threading.Thread(target=self._serve, args=(decision.slot,), daemon=True,
                             name=f"veil-connection-{cid}").start()
        except RuntimeError as e:           # no more threads
            log.error("connection %d from %s refused: %s", cid, describe(peer), e)
            self._admission.release(decision.slot)
            sock.close()

    # -- one connection -----------------------------------------------------------------------
    def _channel(self, slot: Slot) -> SessionChannel:
        channel = SessionChannel(slot.sock, slot, timeout=self.timeout,
                                 max_payload=self.max_payload,
                                 frame_seconds=self.frame_seconds, frame_rate=self.frame_rate)
        if self.login_seconds is not None:
            channel.set_deadline(slot.since + self.login_seconds,
                                 f"login not completed within {self.login_seconds:g} s")
        slot.channel = channel
        return channel

    def _handshake(self, slot: Slot) -> bool:
        """TLS by the login deadline; False when the peer speaks plain frames."""
        login = self.timeout if self.login_seconds is None else self.login_seconds
        end = slot.since + min(login, self.timeout)
        return tls_handshake(slot.sock, self.tls_context, end,
                             f"login not completed within {login:g} s",
                             adopt=lambda tls: setattr(slot, "sock", tls)) is not None

    def _serve(self, slot: Slot) -> None:
        label = f"connection {slot.cid} from {describe(slot.peer)}"
        channel = None
        try:
            try:
                if self.tls_context is not None and not self._handshake(slot):
                    channel = self._channel(slot)
                    raise ServiceError("this server requires TLS")
                channel = self._channel(slot)
                self.handler(channel, slot.peer)
            except Exception as e:          # one connection's failure is never the server's
                if slot.evicted:
                    log.info("%s closed after its eviction", label)
                else:
                    self._report(label, e, channel)
                    close_after_error(slot.sock)
            else:
                log.info("%s done: %d bytes in, %d out", label, channel.bytes_received,
                         channel.bytes_sent)
        finally:
            slot.sock.close()
            self._admission.release(slot)

    def _report(self, label: str, exc: Exception, channel: ServiceChannel | None) -> None:
        what = one_line(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, OSError) or meant_for_peer(exc):
            log.warning("%s closed: %s", label, what)
        else:
            log.error("%s failed: %s%s", label, what, where(exc))
        if channel is None or isinstance(exc, (PeerClosed, RemoteError)):
            return                          # no usable stream, or the peer already gave up
        try:
            channel.timeout = ERROR_SEND_TIMEOUT
            channel.set_deadline(time.monotonic() + ERROR_SEND_TIMEOUT, "sending an ERROR")
            send_error(channel, public_reason(exc))
        except (ProtocolError, OSError):
            pass

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
        admission = self._admission
        if not admission.wait_empty(grace):
            log.warning("cutting off %d running session(s)", admission.count())
        deadline = time.monotonic() + 5.0
        while admission.count() and time.monotonic() < deadline:
            for s in admission.sockets():   # the session's next read fails with PeerClosed
                cut(s)
            admission.wait_empty(0.1)
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

"""Who gets a connection slot: the server's caps, and which stranger makes room for a newcomer.

A connection is a *stranger* until its handler calls `channel.mark_authenticated()`. A
stranger stalled on its own bytes (the server waiting for a frame it has not finished
sending) is the cheapest thing to give up: an honest client sends its frames whole and at
once, so its waits are short, while a slow peer's grow. A newcomer from address A:

- when A already holds `per_address` connections, takes the slot of A's stranger that has
  waited longest (at least `evict_after` seconds); with none, it is refused in one line,
  unless one of A's strangers is waiting on its peer (and so will qualify shortly): then the
  server holds the newcomer, in order of arrival, for a moment before it decides;
- when all `total` slots are taken, takes the slot of the stranger anywhere that has waited
  longest; with none, it is not accepted yet and waits in the kernel's backlog.

So slow peers from the honest user's own address (everyone on loopback) cannot lock it out:
the honest newcomer evicts one of them, and is itself never the one that waited longest.
Authenticated sessions are never evicted. Only connections from one address that arrive
faster than `per_address / evict_after` per second can keep a newcomer out.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from veil.backends.yao.framing.channel import SocketChannel
from veil.service.error_frames import ServiceChannel


@dataclass(eq=False)
class Slot:
    """One accepted connection, from accept until its thread is done."""
    cid: int
    peer: tuple                              # (host, port, ...) as accept() gave it
    sock: socket.socket
    since: float                             # time.monotonic() of the accept
    channel: SocketChannel | None = None     # None during the TLS handshake
    authenticated: bool = False
    evicted: bool = False

    def stalled_for(self, now: float) -> float | None:
        """How long this stranger has been waiting on its peer; None if it is not a stranger
        or is not waiting (its session is computing)."""
        if self.authenticated or self.evicted:
            return None
        since = self.since if self.channel is None else self.channel.waiting_since
        return None if since is None else now - since


class SessionChannel(ServiceChannel):
    """The server's end of a connection: `mark_authenticated` also tells the admission that
    the peer is no longer a stranger (never evicted to make room)."""

    def __init__(self, sock: socket.socket, slot: Slot, **options):
        super().__init__(sock, **options)
        self._slot = slot

    def mark_authenticated(self) -> None:
        super().mark_authenticated()
        self._slot.authenticated = True


@dataclass(frozen=True)
class Decision:
    slot: Slot | None = None                 # admitted (None: refused)
    victim: Slot | None = None               # evicted to make room: the caller cuts it off
    refusal: str | None = None               # why not, for the peer
    later: bool = False                      # a slot may free up soon: worth holding on
    waited: float = 0.0                      # how long the victim had waited on its peer


class Admission:
    def __init__(self, total: int, per_address: int, evict_after: float):
        if total < 1 or per_address < 1:
            raise ValueError(f"connection caps must be at least 1, got {total} and "
                             f"{per_address}")
        self.total, self.per_address, self.evict_after = total, per_address, evict_after
        self.changed = threading.Condition()
        self._slots: dict[int, Slot] = {}

    def _live(self) -> list[Slot]:
        return [s for s in self._slots.values() if not s.evicted]

    def _longest_stalled(self, slots: list[Slot], now: float) -> Slot | None:
        waits = [(w, s.since, s.cid, s) for s in slots
                 if (w := s.stalled_for(now)) is not None and w >= self.evict_after]
        return max(waits)[-1] if waits else None

    def has_room(self) -> bool:
        """A newcomer could be admitted now (from an address below its share)."""
        with self.changed:
            live = self._live()
            return (len(live) < self.total
                    or self._longest_stalled(live, time.monotonic()) is not None)

    def admit(self, cid: int, sock: socket.socket, peer: tuple) -> Decision:
        now = time.monotonic()
        with self.changed:
            live = self._live()
            same = [s for s in live if s.peer[0] == peer[0]]
            victim = None
            if len(same) >= self.per_address:
                victim = self._longest_stalled(same, now)
                if victim is None:
                    soon = any(s.stalled_for(now) is not None for s in same)
                    return Decision(refusal=f"too many connections from {peer[0]}",
                                    later=soon)
            elif len(live) >= self.total:
                victim = self._longest_stalled(live, now)
                if victim is None:
                    return Decision(refusal="the server is busy: retry later", later=True)
            waited = 0.0
            if victim is not None:
                waited, victim.evicted = victim.stalled_for(now), True
            slot = self._slots[cid] = Slot(cid, peer, sock, now)
            return Decision(slot, victim, waited=waited)

    def release(self, slot: Slot) -> None:
        with self.changed:
            self._slots.pop(slot.cid, None)
            self.changed.notify_all()

    def wait_empty(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: not self._slots, timeout=timeout)

    def count(self) -> int:
        """Connections whose thread still runs (evicted ones included until they are gone)."""
        with self.changed:
            return len(self._slots)

    def sockets(self) -> list[socket.socket]:
        with self.changed:
            return [s.sock for s in self._slots.values()]

"""Shared by the connection-bound tests: slow peers that trickle bytes at a server, and an
honest client that retries with backoff until it is served or its time is up.

Every thread here stops by itself: a slow peer by its own deadline (or the `stop` event), an
honest attempt by its socket timeouts and the overall deadline.
"""
from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable

from veil.backends.yao.framing.channel import HEADER
from veil.service.frames import ServiceKind


def header(kind: int, length: int) -> bytes:
    return HEADER.pack(b"VL", 1, int(kind), length)


TRICKLE = header(ServiceKind.HELLO, 1000) + bytes(1000)     # never finished at 2 bytes/s


class SlowPeers:
    """`count` peers on 127.0.0.1, each sending `data` one byte every `every` seconds; a peer
    the server drops reconnects after `pause` seconds (plus jitter), as an attacker would.
    All stop after `seconds` at most, or when the context exits."""

    def __init__(self, address: tuple[str, int], count: int = 40, data: bytes = TRICKLE,
                 every: float = 0.5, pause: float = 1.0, seconds: float = 20.0):
        self.address, self.data, self.every, self.pause = address, data, every, pause
        self.until = time.monotonic() + seconds
        self.stop = threading.Event()
        self.connects = self.drops = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True,
                                          name=f"slow-peer-{i}") for i in range(count)]

    def __enter__(self) -> "SlowPeers":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(5)
        assert not any(t.is_alive() for t in self._threads), "a slow peer did not stop"

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def _running(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.until

    def _run(self, i: int) -> None:
        rng = random.Random(i)
        while self._running():
            try:
                with socket.create_connection(self.address, timeout=2) as s:
                    self._count("connects")
                    for b in self.data:
                        s.sendall(bytes([b]))
                        if self.stop.wait(self.every) or not self._running():
                            return
            except OSError:
                self._count("drops")
            self.stop.wait(self.pause * (1 + rng.random()))


def served_within(seconds: float, attempt: Callable[[], object]) -> tuple[object, int, float]:
    """Run `attempt` until it returns, retrying with backoff (0.1 s doubling, at most 1 s) on
    any error; (its result, attempts, seconds taken), or AssertionError after `seconds`."""
    t0, wait, attempts, last = time.monotonic(), 0.1, 0, None
    while time.monotonic() - t0 < seconds:
        attempts += 1
        try:
            return attempt(), attempts, time.monotonic() - t0
        except Exception as e:          # any failure: refused, dropped, timed out
            last = e
        time.sleep(wait)
        wait = min(2 * wait, 1.0)
    raise AssertionError(f"the honest client was not served within {seconds} s "
                         f"({attempts} attempts; last: {type(last).__name__}: {last})")

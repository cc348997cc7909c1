"""Wall time and bytes each way of a user's session, per phase: the set-up (login, manifest,
provisioning and the OT base set-up), then per batch the offline phase (nothing of the image
yet) and the online phase. What `veil user denoise` reports at the end, so a deployment can
see where its link's time would go."""
from __future__ import annotations

import contextlib
import time

from veil.backends.yao.backend import Phase
from veil.backends.yao.framing.channel import Channel

PHASES = ("set-up", "offline", "online")


class SessionPhases:
    def __init__(self) -> None:
        self.phases = {name: Phase() for name in PHASES}

    @contextlib.contextmanager
    def measure(self, name: str, ch: Channel):
        t, up, down = time.perf_counter(), ch.bytes_sent, ch.bytes_received
        try:
            yield
        finally:
            p = self.phases[name]
            p.seconds += time.perf_counter() - t
            p.up += ch.bytes_sent - up
            p.down += ch.bytes_received - down

    def add(self, name: str, seconds: float, up: int, down: int) -> None:
        p = self.phases[name]
        p.seconds, p.up, p.down = p.seconds + seconds, p.up + up, p.down + down

    def text(self) -> str:
        return "; ".join(p.text(name) for name, p in self.phases.items())

"""One party's end of a channel that counts every frame it sends and receives, by phase and
frame kind, for `veil bench`'s byte table (bench/traffic.py drives the parties over it).

It wraps a real channel end (InProcessChannel, SocketChannel) and changes nothing on the
wire: each frame is sent and received by the wrapped end, then its size (header included,
as the wrapped end counts it in bytes_sent / bytes_received) is added under the current
`phase` and the frame's kind. tests/bench/test_traffic.py checks the counts against the
wrapped ends' totals and against the bytes the sockets carried.
"""
from __future__ import annotations

from collections import Counter

from veil.backends.yao.framing.channel import HEADER, Channel
from veil.backends.yao.framing.kinds import FrameKind


class CountingChannel(Channel):
    """`inner` with its frames counted: sent[(phase, kind name)] and received[...] in bytes,
    sent_frames[...] and received_frames[...] in frames. Set `phase` between phases."""

    def __init__(self, inner: Channel, phase: str = "setup"):
        super().__init__(inner.max_payload)
        self.inner, self.phase = inner, phase
        self.sent: Counter[tuple[str, str]] = Counter()
        self.received: Counter[tuple[str, str]] = Counter()
        self.sent_frames: Counter[tuple[str, str]] = Counter()
        self.received_frames: Counter[tuple[str, str]] = Counter()

    def send(self, kind: FrameKind, payload: bytes | bytearray | memoryview) -> None:
        self.inner.send(kind, payload)
        size = HEADER.size + memoryview(payload).nbytes
        self.sent[(self.phase, kind.name)] += size
        self.sent_frames[(self.phase, kind.name)] += 1
        self.bytes_sent += size

    def recv_any(self, expected: tuple[FrameKind, ...], max_payload: int | None = None
                 ) -> tuple[FrameKind, bytes]:
        kind, payload = self.inner.recv_any(expected, max_payload)
        size = HEADER.size + len(payload)
        self.received[(self.phase, kind.name)] += size
        self.received_frames[(self.phase, kind.name)] += 1
        self.bytes_received += size
        return kind, payload

    def mark_authenticated(self) -> None:
        self.inner.mark_authenticated()

    def close(self) -> None:
        self.inner.close()

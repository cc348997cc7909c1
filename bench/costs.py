"""The figures `veil bench` measures: bench/measure.py fills a ModelCost (a LayerCost per
dense layer, a Step per party's step, the `paper` lowering's UnitCosts from bench/timing.py)
and bench/report.py derives and prints everything from it. Kept apart from the measuring so
the report reads figures without importing the lowerings.
"""
from __future__ import annotations

from dataclasses import dataclass

from veil.models.patches import PatchGeometry, PatchGrid

IMAGE_SIDE = 512
TRAFFIC_MAX_COLUMNS = 20_000   # packed columns to provision (blocks x n_in, all layers) up to
                               # which the bench runs the real parties for their bytes


@dataclass(frozen=True)
class UnitCost:
    user: float          # CPU seconds per unit (product or activation)
    cloud: float
    up: float = 0.0      # bytes user -> cloud per unit (activations only)
    down: float = 0.0


@dataclass(frozen=True)
class Step:
    """One party's step on one layer: CPU seconds for the whole layer, once per model and
    user (provisioning) or per patch (offline, online). scale > 1: timed on 1/scale of it."""
    phase: str           # provisioning, offline or online
    party: str           # owner, cloud or user
    part: str            # linear or activation
    name: str
    seconds: float
    scale: float = 1.0


@dataclass(frozen=True)
class LayerCost:
    index: int
    n_in: int
    n_out: int
    activation: bool
    blocks: int
    measured_blocks: int           # the linear steps' sample (the garbled circuits: all)
    columns_sampled: int           # provisioning's sample of the n_in columns
    steps: tuple[Step, ...]
    paper_product: UnitCost        # the `paper` lowering's unit costs on this layer
    paper_activation: UnitCost | None
    paper_samples: tuple[int, int]  # products, activations timed

    @property
    def macs(self) -> int:
        return self.n_in * self.n_out

    @property
    def neurons(self) -> int:
        return self.n_out if self.activation else 0

    def seconds(self, phase: str, part: str | None = None, party: str | None = None) -> float:
        return sum(s.seconds for s in self.steps if s.phase == phase
                   and part in (None, s.part) and party in (None, s.party))

    def paper_seconds(self) -> float:
        """The `paper` lowering per patch on this layer (extrapolated from its unit costs)."""
        p, a = self.paper_product, self.paper_activation
        return self.macs * (p.user + p.cloud) + (self.neurons * (a.user + a.cloud) if a else 0.0)


@dataclass(frozen=True)
class Frames:
    """The frames of one kind one way in one phase of a run (bench/traffic.py)."""
    phase: str           # publishing, provisioning, session, offline or online
    sender: str          # owner, cloud or user (the receiver: the cloud for the owner, else
    kind: str            # the other party); kind: the frame kind's name (framing/kinds.py)
    frames: int
    bytes: int           # headers included: what the channel carries


@dataclass(frozen=True)
class Traffic:
    """Every frame of one run of the real packed parties over a channel: the owner's
    publishing, provisioning, the session's base OTs, then one batch of `patches` patches
    offline and online; each party's CPU seconds (thread time) and the wall time per phase."""
    patches: int
    frames: tuple[Frames, ...]
    cpu: dict[str, dict[str, float]]        # phase -> party -> CPU seconds
    wall: dict[str, float]                  # phase -> seconds

    def bytes(self, phase: str | None = None, sender: str | None = None,
              kind: str | None = None) -> int:
        return sum(f.bytes for f in self.frames if phase in (None, f.phase)
                   and sender in (None, f.sender) and kind in (None, f.kind))


@dataclass(frozen=True)
class ModelCost:
    spec: str
    bits: int
    kappa: int
    patches: int                   # per measured batch
    geometry: tuple[int, int, int]  # input side, output side, stride
    image_patches: int             # per IMAGE_SIDE x IMAGE_SIDE channel
    layers: tuple[LayerCost, ...]
    base_ot: dict[str, float]      # CPU seconds once per session (base OTs and fresh-factor pools)
    wall_seconds: float            # of this measurement
    load: float                    # 1-minute load average when it started
    traffic: Traffic | None = None  # bytes on the wire, from a run of the real parties

    @property
    def macs(self) -> int:
        return sum(x.macs for x in self.layers)

    @property
    def neurons(self) -> int:
        return sum(x.neurons for x in self.layers)

    def seconds(self, phase: str, part: str | None = None, party: str | None = None) -> float:
        return sum(x.seconds(phase, part, party) for x in self.layers)

    def paper_seconds(self) -> float:
        return sum(x.paper_seconds() for x in self.layers)

    @property
    def packed_columns(self) -> int:
        """Packed columns provisioned (blocks x n_in over the layers)."""
        return sum(x.blocks * x.n_in for x in self.layers)


def image_patches(geometry: tuple[int, int, int], side: int = IMAGE_SIDE) -> int:
    """Patches per side x side channel at the model's stride (models/patches.py grid)."""
    return len(PatchGrid((side, side), PatchGeometry(*geometry)))

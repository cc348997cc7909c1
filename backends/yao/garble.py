"""Batched garbled circuits: garble / evaluate / decode many instances of one Linearised circuit.

Scheme (PROTOCOL.md, "The garbled activation"): free-XOR with a fresh offset R per garbling
(lsb(R) = 1), point-and-permute (colour = a label's lsb), half-gates AND (two 16-byte
ciphertexts per AND and instance), H(x, i) = pi(pi(x) ^ i) ^ pi(x) with fixed-key AES
(aes_hash.py), tweaks unique per (gate, instance, garbling) (gc_tweaks.py), free NOT (the
garbler flips the zero-label), constants as labels of their value sent with the tables.

Roles. The garbler (user) calls `garble`, keeps `GarblerSecrets`, encodes its own inputs with
`input_labels` and hands `label_pairs` of the evaluator's buses to the OT. The evaluator (cloud)
calls `evaluate` and `decode` with the public `GarbledCircuit` only: the decoding bits travel
with it, so only the party holding output labels (the evaluator) learns outputs.

Batching and memory. Instances are processed in blocks of BLOCK inside a call: one Python
iteration per step (~520 for tanh*, 98 of them AND steps), numpy over all gates of the step x
all instances of the block. A call holds, per instance: tables and_count * 32 B, input labels
16 B per input bit (garbler: zero-labels; evaluator: active labels + output labels), plus a
fixed block workspace (wire table n_wires * BLOCK * 16 B + hash buffers). For tanh* (346 ANDs,
108 input bits, 1482 wires) that is ~13 KB per instance + ~60 MB fixed; stream large batches
as chunks of e.g. 100k instances with first_instance = the chunk's offset (same tweak_base).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from veil.circuits.linear import Linearised

from .gc_bits import from_bits, to_bits
from .gc_evaluator import evaluate_block
from .gc_garbler import garble_block
from .gc_plan import Plan, plan_for
from .gc_scratch import Scratch
from .gc_tweaks import check_range, instance_counters
from .labels import LABEL_BYTES, colour, random_delta, random_labels, words

# Instances per block: big enough that the ~3000 numpy calls per block are amortised (<5%),
# small enough that one AND step's buffers stay near the 2 MB L2 (tuned in bench_garble.py).
BLOCK = 2048


@dataclass(frozen=True, eq=False)
class GarbledCircuit:
    """What the garbler sends to the evaluator (read-only arrays).

    tables:    (and_count, 2, n, 16) uint8, row (TG, TE) of every AND gate and instance
    constants: (k, n, 16) uint8, the active labels of the constant wires present (const0, const1)
    decoding:  output bus -> (width, n) uint8, the colour bits of the output zero-labels
    tweak_base, first_instance: the tweak layout parameters (gc_tweaks.py)
    """

    tables: np.ndarray
    constants: np.ndarray
    decoding: dict[str, np.ndarray]
    tweak_base: int
    first_instance: int

    @property
    def n_instances(self) -> int:
        return self.tables.shape[2]

    def __post_init__(self) -> None:
        for a in (self.tables, self.constants, *self.decoding.values()):
            a.flags.writeable = False


@dataclass(frozen=True, eq=False)
class GarblerSecrets:
    """The garbler's private state: never leaves the garbler (repr shows no secrets).

    Each input bus's labels may be released once, through input_labels (garbler's own values)
    or label_pairs (to the OT): releasing both labels of a wire, or two encodings of one bus,
    would hand the evaluator R.
    """

    delta: np.ndarray = field(repr=False)
    zero_labels: dict[str, np.ndarray] = field(repr=False)
    n_instances: int
    _released: set[str] = field(default_factory=set, repr=False)

    def _release(self, bus: str) -> np.ndarray:
        if bus not in self.zero_labels:
            raise KeyError(f"no input bus {bus!r}")
        if bus in self._released:
            raise ValueError(f"the labels of bus {bus!r} were already released")
        self._released.add(bus)
        return self.zero_labels[bus]


def _check_labels(arr: np.ndarray, width: int, n: int, what: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype != np.uint8 or arr.shape != (width, n, LABEL_BYTES):
        raise ValueError(f"{what}: expected uint8 {(width, n, LABEL_BYTES)}, got "
                         f"{arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


def _blocks(n: int):
    for i0 in range(0, n, BLOCK):
        yield i0, min(n, i0 + BLOCK)


def _load(plan: Plan, W: np.ndarray, buses: Mapping[str, np.ndarray], consts: np.ndarray,
          i0: int, i1: int) -> None:
    for name, idx in plan.inputs.items():
        W[idx] = words(buses[name][:, i0:i1])
    for k, (wire, _) in enumerate(plan.consts):
        W[wire] = words(consts[k, i0:i1])


def garble(lin: Linearised, n_instances: int, tweak_base: int, *, first_instance: int = 0,
           zero_labels: Mapping[str, np.ndarray] | None = None
           ) -> tuple[GarbledCircuit, GarblerSecrets]:
    """Garble n_instances independent copies of lin under one fresh offset R.

    tweak_base (64-bit) must differ between garblings of a session; chunks of one garbling
    share it and pass first_instance = the global number of their first instance.
    zero_labels optionally fixes the zero-labels of some input buses ((width, n, 16) uint8,
    uniformly random, e.g. from a correlated OT); all others are drawn here.
    """
    plan = plan_for(lin)
    n = n_instances
    check_range(tweak_base, first_instance, n, plan.and_count)
    preset = dict(zero_labels or {})
    if set(preset) - set(plan.inputs):
        raise KeyError(f"zero_labels for unknown buses {sorted(set(preset) - set(plan.inputs))}")
    delta = random_delta()
    R = words(delta)
    zero = {name: _check_labels(preset[name], len(idx), n, f"zero_labels[{name!r}]").copy()
            if name in preset else random_labels(len(idx), n)
            for name, idx in plan.inputs.items()}
    const_zero = random_labels(len(plan.consts), n)
    tables = np.empty((plan.and_count, 2, n, LABEL_BYTES), np.uint8)
    decoding = {name: np.empty((len(idx), n), np.uint8) for name, idx in plan.outputs.items()}
    ctr = instance_counters(first_instance, n, plan.and_count)
    s = Scratch(plan, min(n, BLOCK), 4, tweak_base, R)
    for i0, i1 in _blocks(n):
        W = s.wires(i1 - i0)
        _load(plan, W, zero, const_zero, i0, i1)
        garble_block(plan, s, W, words(tables)[:, :, i0:i1], ctr[i0:i1])
        for name, idx in plan.outputs.items():
            decoding[name][:, i0:i1] = W[idx, :, 0] & 1
    active_consts = const_zero.copy()
    for k, (_, value) in enumerate(plan.consts):
        if value:
            words(active_consts)[k] ^= R
    gc = GarbledCircuit(tables, active_consts, decoding, tweak_base, first_instance)
    return gc, GarblerSecrets(delta, zero, n, set(preset))


def input_labels(secrets: GarblerSecrets, bus: str, values) -> np.ndarray:
    """The garbler's own input values (n integers, taken mod 2**width) encoded as active labels
    (width, n, 16) for the evaluator. Once per bus."""
    zero = secrets._release(bus)
    bits = to_bits(values, zero.shape[0])
    if bits.shape[1] != secrets.n_instances:
        raise ValueError(f"{bits.shape[1]} values for {secrets.n_instances} instances")
    out = zero.copy()
    words(out)[...] ^= (-bits.astype(np.uint64))[..., None] & words(secrets.delta)
    return out


def label_pairs(secrets: GarblerSecrets, bus: str) -> tuple[np.ndarray, np.ndarray]:
    """(zero, one) labels of bus, each (width, n, 16), for the OT sender. Once per bus."""
    zero = secrets._release(bus)
    return zero.copy(), (words(zero) ^ words(secrets.delta)).view(np.uint8)


def _check_gc(plan: Plan, gc: GarbledCircuit) -> int:
    n = gc.n_instances
    expect = {"tables": (plan.and_count, 2, n, LABEL_BYTES),
              "constants": (len(plan.consts), n, LABEL_BYTES)}
    for name, shape in expect.items():
        arr = getattr(gc, name)
        if arr.dtype != np.uint8 or arr.shape != shape:
            raise ValueError(f"garbled circuit {name}: expected uint8 {shape}, got "
                             f"{arr.dtype} {arr.shape}")
    if gc.decoding.keys() != plan.outputs.keys() or any(
            gc.decoding[k].shape != (len(idx), n) for k, idx in plan.outputs.items()):
        raise ValueError("garbled circuit decoding does not match the output buses")
    check_range(gc.tweak_base, gc.first_instance, n, plan.and_count)
    return n


def evaluate(lin: Linearised, gc: GarbledCircuit, labels: Mapping[str, np.ndarray]
             ) -> dict[str, np.ndarray]:
    """Evaluate with one active label per input wire (labels: bus -> (width, n, 16) uint8);
    returns the active output labels per output bus, (width, n, 16) uint8."""
    plan = plan_for(lin)
    n = _check_gc(plan, gc)
    if labels.keys() != plan.inputs.keys():
        raise KeyError(f"labels for {sorted(labels)}, circuit inputs are {sorted(plan.inputs)}")
    active = {k: _check_labels(labels[k], len(idx), n, f"labels[{k!r}]")
              for k, idx in plan.inputs.items()}
    out = {k: np.empty((len(idx), n, LABEL_BYTES), np.uint8) for k, idx in plan.outputs.items()}
    tables = np.ascontiguousarray(gc.tables)
    ctr = instance_counters(gc.first_instance, n, plan.and_count)
    s = Scratch(plan, min(n, BLOCK), 2, gc.tweak_base)
    for i0, i1 in _blocks(n):
        W = s.wires(i1 - i0)
        _load(plan, W, active, gc.constants, i0, i1)
        evaluate_block(plan, s, W, words(tables)[:, :, i0:i1], ctr[i0:i1])
        for k, idx in plan.outputs.items():
            words(out[k])[:, i0:i1] = W[idx]
    return out


def decode(gc: GarbledCircuit, out_labels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Output values (unsigned; int64 for widths <= 63, else Python ints) from the active
    output labels: bit = colour(label) ^ colour(zero-label)."""
    if out_labels.keys() != gc.decoding.keys():
        raise KeyError(f"labels for {sorted(out_labels)}, outputs are {sorted(gc.decoding)}")
    result = {}
    for k, d in gc.decoding.items():
        lab = _check_labels(out_labels[k], d.shape[0], d.shape[1], f"out_labels[{k!r}]")
        result[k] = from_bits(colour(lab) ^ d)
    return result

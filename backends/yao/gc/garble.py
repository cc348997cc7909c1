"""Batched garbled circuits: garble / evaluate / decode many instances of one Linearised circuit.

Scheme (PROTOCOL.md, "The garbled activation"; docs/garbling.md): free-XOR with an offset R
per garbling (fresh from the CSPRNG unless the caller fixes it; lsb(R) = 1), point-and-permute
(colour = a label's lsb), AND gates by three-halves (the default: three 8-byte
half-ciphertexts and 5 control bits per AND and instance) or half-gates (two 16-byte
ciphertexts), as the caller chooses (schemes.py), H(x, i) = pi(pi(x) ^ i) ^ pi(x) with
fixed-key AES (hash.py), tweaks unique per (gate, instance, garbling) (tweaks.py), free NOT
(the garbler flips the zero-label), constants as labels of their value sent with the tables.

Roles. The garbler (user) calls `garble`, keeps `GarblerSecrets`, encodes its own inputs with
`input_labels` and hands `label_pairs` of the evaluator's buses to a chosen-message OT (or
fixes R and takes those zero-labels from a correlated OT: see `garble`). The evaluator (cloud)
calls `evaluate` and `decode` with the public `GarbledCircuit` only: the decoding bits travel
with it, so only the party holding output labels (the evaluator) learns outputs; the scheme
travels with it too. Bytes for the channel: wire.py.

Batching. Instances are processed in blocks of BLOCK inside a call, one Python iteration per
step (~520 for tanh*, 98 of them AND steps; wide AND steps are cut in parts, plan.py), each
numpy call covering all gates of the step x all instances of the block.

Memory. A call holds, per instance: the tables, 32 B per AND (three-halves: 24 B + 5 bytes
of control bits), and 16 B per input bit (garbler: zero-labels; evaluator: active input
labels, plus 16 B per output bit); for tanh* (346 ANDs, 108 input and 51 output bits) 12.5 KB
(garbler) and 13.3 KB (evaluator) per instance. On top, a fixed per-thread workspace of
~22-30 MB per role (label slots x BLOCK x 16 B + buffers, scratch.py), kept between calls.
1M instances would be 12.5 GB at once: stream them as chunks (e.g. 50k instances, 625 MB)
with the same tweak_base and first_instance = the chunk's offset; each chunk is its own
GarbledCircuit (own R unless delta is passed).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from veil.circuits.linear import Linearised

from veil.backends.yao.gc import evaluator, garbler, three_halves_evaluator, three_halves_garbler
from veil.backends.yao.gc import schemes
from veil.backends.yao.gc.bits import from_bits, to_bits
from veil.backends.yao.gc.plan import Plan, plan_for
from veil.backends.yao.gc.schemes import LAYOUTS, Scheme, scheme_of
from veil.backends.yao.gc.scratch import scratch_for
from veil.backends.yao.gc.tweaks import check_range, instance_counters
from veil.backends.yao.gc.types import GarbledCircuit, GarblerSecrets
from veil.backends.yao.gc.labels import (LABEL_BYTES, colour, random_delta, random_labels,
                                         seeded_bytes, seeded_labels, words)

__all__ = ["BLOCK", "GarbledCircuit", "GarblerSecrets", "Scheme", "decode", "evaluate",
           "garble", "input_labels", "input_zero_labels", "label_pairs"]

# (garbler, evaluator) modules of each scheme: ROLE, bind_step and the block function
_PARTIES = {Scheme.HALF_GATES: (garbler, evaluator),
            Scheme.THREE_HALVES: (three_halves_garbler, three_halves_evaluator)}
ROLES = {s: (g.ROLE, e.ROLE) for s, (g, e) in _PARTIES.items()}  # their scratch (bench)

# Instances per block: big enough that the per-block Python overhead (~770 bound steps, ~5 ms
# for tanh*) costs ~6%; wide AND steps are cut to keep their buffers in L2
# (plan.AND_BUDGET). Tuned with bench_garble.py --sweep. Three-halves uses blocks twice as large
# (its Role's scale).
BLOCK = 4096


def _check_labels(arr: np.ndarray, width: int, n: int, what: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype != np.uint8 or arr.shape != (width, n, LABEL_BYTES):
        raise ValueError(f"{what}: expected uint8 {(width, n, LABEL_BYTES)}, got "
                         f"{arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


def _blocks(n: int, block: int):
    for i0 in range(0, n, block):
        yield i0, min(n, i0 + block)


def _load(plan: Plan, W: np.ndarray, buses: Mapping[str, np.ndarray], consts: np.ndarray,
          i0: int, i1: int) -> None:
    for name, idx in plan.inputs.items():
        W[idx] = words(buses[name][:, i0:i1])
    for k, (wire, _) in enumerate(plan.consts):
        W[wire] = words(consts[k, i0:i1])


def input_zero_labels(seed: bytes | None, bus: str, width: int, n: int) -> np.ndarray:
    """The zero-labels `garble` draws for an input bus: from the seed when one is given (so
    the garbler can regenerate them), else fresh."""
    if seed is None:
        return random_labels(width, n)
    return seeded_labels(seed, f"input {bus}", width, n)


def _dice(seed: bytes | None, block_start: int):
    """The random bytes a scheme draws while garbling a block (three-halves' dice): None
    lets the scheme draw fresh ones."""
    if seed is None:
        return None
    return lambda n: seeded_bytes(seed, f"dice {block_start}", n)


def garble(lin: Linearised, n_instances: int, tweak_base: int, *, first_instance: int = 0,
           delta: np.ndarray | None = None, zero_labels: Mapping[str, np.ndarray] | None = None,
           scheme: str | Scheme | None = None, hidden: Collection[str] = (),
           seed: bytes | None = None) -> tuple[GarbledCircuit, GarblerSecrets]:
    """Garble n_instances independent copies of lin under one offset R (fresh by default),
    AND gates by `scheme` (schemes.DEFAULT_SCHEME, three-halves, unless named).

    tweak_base (64-bit) must differ between garblings of a session; chunks of one garbling
    share it and pass first_instance = the global number of their first instance.
    For a correlated OT of the evaluator's inputs (16 B per OT instead of 32): fix R first
    (delta = labels.random_delta(), (16,) uint8 with lsb 1), run the OT with it, and pass its
    pairs' zero sides as zero_labels (bus -> (width, n, 16) uint8, uniformly random); every
    other bus's zero-labels are drawn here. Chunks of one garbling may share delta.
    Output buses named in `hidden` get no decoding bits: their zero-labels stay with the
    garbler (GarblerSecrets.output_zero), for a translation table (translate.py).
    With a `seed` (32 secret bytes, one per garbling or chunk) every label drawn here is a
    function of it (labels.seeded_labels): the same arguments give the same garbling, and
    input_zero_labels(seed, bus, ...) gives a bus's zero-labels again.
    """
    scheme = scheme_of(schemes.DEFAULT_SCHEME if scheme is None else scheme)
    lay, party = LAYOUTS[scheme], _PARTIES[scheme][0]
    plan = plan_for(lin)
    n = n_instances
    check_range(tweak_base, first_instance, n, plan.and_count, lay.per_gate)
    preset, hidden = dict(zero_labels or {}), set(hidden)
    if hidden - set(plan.outputs):
        raise KeyError(f"hidden outputs {sorted(hidden - set(plan.outputs))} are not outputs")
    if set(preset) - set(plan.inputs):
        raise KeyError(f"zero_labels for unknown buses {sorted(set(preset) - set(plan.inputs))}")
    if delta is None:
        delta = random_delta()
    else:
        # a copy (secrets own their arrays); bytes as the OT layer passes them
        delta = np.frombuffer(bytes(delta), np.uint8).copy() if isinstance(
            delta, (bytes, bytearray)) else np.array(delta, dtype=np.uint8)
        if delta.shape != (LABEL_BYTES,) or not delta[0] & 1:
            raise ValueError("delta must be 16 bytes (uint8) with least significant bit 1")
    R = words(delta)
    zero = {name: _check_labels(preset[name], len(idx), n, f"zero_labels[{name!r}]").copy()
            if name in preset else input_zero_labels(seed, name, len(idx), n)
            for name, idx in plan.inputs.items()}
    const_zero = (random_labels(len(plan.consts), n) if seed is None
                  else seeded_labels(seed, "constants", len(plan.consts), n))
    tables = np.empty((plan.and_count, lay.rows, n, lay.row_bytes), np.uint8)
    control = np.empty((lay.control_bits, plan.and_count, n), np.uint8)
    decoding = {name: np.empty((len(idx), n), np.uint8) for name, idx in plan.outputs.items()
                if name not in hidden}
    output_zero = {name: np.empty((len(plan.outputs[name]), n, LABEL_BYTES), np.uint8)
                   for name in hidden}
    ctr = instance_counters(first_instance, n, plan.and_count, lay.per_gate)
    block = BLOCK * party.ROLE.scale
    s = scratch_for(plan, min(n, block), party.ROLE, tweak_base, R)
    for i0, i1 in _blocks(n, block):
        W = s.wires(i1 - i0)
        _load(plan, W, zero, const_zero, i0, i1)
        s.ctr[:i1 - i0] = ctr[i0:i1]
        party.garble_block(s, i1 - i0, tables, control, i0, i1, _dice(seed, i0))
        for name, idx in plan.outputs.items():
            if name in hidden:
                words(output_zero[name])[:, i0:i1] = W[idx]
            else:
                decoding[name][:, i0:i1] = W[idx, :, 0] & 1
    active_consts = const_zero.copy()
    for k, (_, value) in enumerate(plan.consts):
        if value:
            words(active_consts)[k] ^= R
    gc = GarbledCircuit(tables, active_consts, decoding, tweak_base, first_instance, scheme,
                        control)
    return gc, GarblerSecrets(delta, zero, n, set(preset), output_zero)


def input_labels(secrets: GarblerSecrets, bus: str, values) -> np.ndarray:
    """The garbler's own input values (n integers, taken mod 2**width) encoded as active labels
    (width, n, 16) for the evaluator. Once per bus."""
    if bus not in secrets.zero_labels:
        raise KeyError(f"no input bus {bus!r}")
    bits = to_bits(values, secrets.zero_labels[bus].shape[0])
    if bits.shape[1] != secrets.n_instances:
        raise ValueError(f"{bits.shape[1]} values for {secrets.n_instances} instances")
    out = secrets._release(bus).copy()
    words(out)[...] ^= (-bits.astype(np.uint64))[..., None] & words(secrets.delta)
    return out


def label_pairs(secrets: GarblerSecrets, bus: str) -> tuple[np.ndarray, np.ndarray]:
    """(zero, one) labels of bus, each (width, n, 16), for the OT sender. Once per bus."""
    zero = secrets._release(bus)
    return zero.copy(), (words(zero) ^ words(secrets.delta)).view(np.uint8)


def _check_decoding(decoding: Mapping[str, np.ndarray], widths: Mapping[str, int],
                    n: int) -> None:
    """Decoding bits for some of the output buses (the others are hidden), of their widths."""
    if not decoding.keys() <= widths.keys() or any(
            d.dtype != np.uint8 or d.shape != (widths[k], n) or d.max(initial=0) > 1
            for k, d in decoding.items()):
        raise ValueError("garbled circuit decoding bits do not match the output buses")


def _check_gc(plan: Plan, gc: GarbledCircuit) -> int:
    if not isinstance(gc, GarbledCircuit):
        raise TypeError(f"expected a GarbledCircuit, got {type(gc).__name__}")
    n, lay = gc.n_instances, LAYOUTS[gc.scheme]
    expect = {"tables": (plan.and_count, lay.rows, n, lay.row_bytes),
              "control": (lay.control_bits, plan.and_count, n),
              "constants": (len(plan.consts), n, LABEL_BYTES)}
    for name, shape in expect.items():
        arr = getattr(gc, name)
        if arr.dtype != np.uint8 or arr.shape != shape:
            raise ValueError(f"garbled circuit {name} ({gc.scheme}): expected uint8 {shape}, "
                             f"got {arr.dtype} {arr.shape}")
    if gc.control.max(initial=0) > 1:
        raise ValueError("garbled circuit control bits must be bits")
    _check_decoding(gc.decoding, {k: len(idx) for k, idx in plan.outputs.items()}, n)
    check_range(gc.tweak_base, gc.first_instance, n, plan.and_count, lay.per_gate)
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
    lay, party = LAYOUTS[gc.scheme], _PARTIES[gc.scheme][1]
    tables, control = np.ascontiguousarray(gc.tables), np.ascontiguousarray(gc.control)
    ctr = instance_counters(gc.first_instance, n, plan.and_count, lay.per_gate)
    block = BLOCK * party.ROLE.scale
    s = scratch_for(plan, min(n, block), party.ROLE, gc.tweak_base)
    for i0, i1 in _blocks(n, block):
        W = s.wires(i1 - i0)
        _load(plan, W, active, gc.constants, i0, i1)
        s.ctr[:i1 - i0] = ctr[i0:i1]
        party.evaluate_block(s, i1 - i0, tables, control, i0, i1)
        for k, idx in plan.outputs.items():
            words(out[k])[:, i0:i1] = W[idx]
    return out


def decode(gc: GarbledCircuit, out_labels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Output values (unsigned; int64 for widths <= 63, else Python ints) from the active
    output labels: bit = colour(label) ^ colour(zero-label)."""
    if not isinstance(gc, GarbledCircuit):
        raise TypeError(f"expected a GarbledCircuit, got {type(gc).__name__}")
    if out_labels.keys() != gc.decoding.keys():
        raise KeyError(f"labels for {sorted(out_labels)}, outputs are {sorted(gc.decoding)}")
    _check_decoding(gc.decoding, {k: len(d) for k, d in gc.decoding.items()}, gc.n_instances)
    result = {}
    for k, d in gc.decoding.items():
        lab = _check_labels(out_labels[k], d.shape[0], d.shape[1], f"out_labels[{k!r}]")
        result[k] = from_bits(colour(lab) ^ d)
    return result

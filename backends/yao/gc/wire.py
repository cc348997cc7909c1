"""Byte encodings of what crosses the channel: garbled circuits and label arrays. No pickle.

GarbledCircuit message (little-endian):
    header  b"VEILGC02", then uint64 scheme code, tweak_base, first_instance, n_instances,
            and_count, n_consts, n_decoding_bits
    tables     and_count * rows * n * row_bytes bytes, layout (and_count, rows, n, row_bytes):
               half-gates 2 x 16, three-halves 3 x 8 (schemes.py)
    control    the (control_bits, and_count, n) bits (three-halves: 5, half-gates: none),
               packed 8 per byte (np.packbits, little bit order), zero padding bits
    constants  n_consts * n * 16 bytes, layout (n_consts, n, 16)
    decoding   the (width, n) bits of every output bus but the hidden ones (garble's
               `hidden`, agreed by both sides), buses sorted by name, concatenated
               and packed like the control bits.
The receiver decodes against the circuit it expects (public), the instance count it expects
and the schemes it accepts: the scheme code must name one of those, every size is recomputed
from them, and anything else is rejected.
"""
from __future__ import annotations

import struct
from collections.abc import Collection

import numpy as np

from veil.circuits.linear import Linearised

from veil.backends.yao.gc.types import GarbledCircuit
from veil.backends.yao.gc.plan import plan_for
from veil.backends.yao.gc.schemes import LAYOUTS, Scheme, by_code, scheme_of
from veil.backends.yao.gc.tweaks import check_range
from veil.backends.yao.gc.labels import LABEL_BYTES
from veil.util.errors import ProtocolError

MAGIC = b"VEILGC02"
_HEADER = struct.Struct("<8s7Q")


def _pack_bits(bits: np.ndarray) -> bytes:
    return np.packbits(bits.reshape(-1), bitorder="little").tobytes()


def _unpack_bits(packed: np.ndarray, count: int, what: str) -> np.ndarray:
    if count % 8 and packed[-1] >> (count % 8):
        raise ProtocolError(f"nonzero padding bits in the {what}")
    return np.unpackbits(packed, count=count, bitorder="little")


def gc_to_bytes(gc: GarbledCircuit) -> bytes:
    bits = np.concatenate([gc.decoding[k].reshape(-1) for k in sorted(gc.decoding)]
                          or [np.zeros(0, np.uint8)])
    header = _HEADER.pack(MAGIC, LAYOUTS[gc.scheme].code, gc.tweak_base, gc.first_instance,
                          gc.n_instances, gc.tables.shape[0], gc.constants.shape[0], bits.size)
    return b"".join([header, gc.tables.tobytes(), _pack_bits(gc.control), gc.constants.tobytes(),
                     _pack_bits(bits)])


def gc_from_bytes(data: bytes, lin: Linearised, n_instances: int,
                  schemes: Collection[str | Scheme] = tuple(Scheme),
                  hidden: Collection[str] = ()) -> GarbledCircuit:
    """Parse and check a GarbledCircuit for `n_instances` instances of `lin`, garbled by one
    of `schemes` (by default any this code knows), with decoding bits for every output bus
    except those in `hidden`."""
    plan = plan_for(lin)
    n = n_instances
    accepted = {scheme_of(s) for s in schemes}
    if len(data) < _HEADER.size:
        raise ProtocolError("garbled circuit message too short")
    magic, code, tweak_base, first, n_got, ands, consts, nbits = _HEADER.unpack_from(data)
    scheme = by_code(code)
    if magic != MAGIC or scheme is None:
        raise ProtocolError("garbled circuit header: not a garbled circuit of a known scheme")
    if scheme not in accepted:
        raise ProtocolError(f"garbled circuit scheme {scheme} is not accepted here")
    lay = LAYOUTS[scheme]
    widths = {k: len(plan.outputs[k]) for k in sorted(plan.outputs) if k not in hidden}
    expect = (n, plan.and_count, len(plan.consts), sum(widths.values()) * n)
    if (n_got, ands, consts, nbits) != expect:
        raise ProtocolError("garbled circuit header does not match the expected circuit")
    try:
        check_range(tweak_base, first, n, plan.and_count, lay.per_gate)
    except ValueError as e:
        raise ProtocolError(f"garbled circuit header: {e}") from None
    ncontrol = lay.control_bits * ands * n
    sizes = [ands * lay.rows * n * lay.row_bytes, -(-ncontrol // 8), consts * n * LABEL_BYTES,
             -(-nbits // 8)]
    if len(data) != _HEADER.size + sum(sizes):
        raise ProtocolError(f"garbled circuit message has {len(data)} bytes, expected "
                            f"{_HEADER.size + sum(sizes)}")
    parts, pos = [], _HEADER.size
    for size in sizes:
        parts.append(np.frombuffer(data, np.uint8, size, pos).copy())
        pos += size
    control = _unpack_bits(parts[1], ncontrol, "control bits")
    bits = _unpack_bits(parts[3], nbits, "decoding information")
    decoding, pos = {}, 0
    for k, w in widths.items():
        decoding[k] = bits[pos:pos + w * n].reshape(w, n).copy()
        pos += w * n
    return GarbledCircuit(parts[0].reshape(ands, lay.rows, n, lay.row_bytes),
                          parts[2].reshape(consts, n, LABEL_BYTES), decoding, tweak_base, first,
                          scheme, control.reshape(lay.control_bits, ands, n))


def labels_to_bytes(labels: np.ndarray) -> bytes:
    """A (width, n, 16) uint8 label array as raw bytes (its shape is known to the receiver)."""
    if labels.dtype != np.uint8 or labels.ndim != 3 or labels.shape[2] != LABEL_BYTES:
        raise ValueError("expected (width, n, 16) uint8 labels")
    return labels.tobytes()


def labels_from_bytes(data: bytes, width: int, n_instances: int) -> np.ndarray:
    """Inverse of labels_to_bytes, for the width and instance count the receiver expects."""
    size = width * n_instances * LABEL_BYTES
    if len(data) != size:
        raise ProtocolError(f"label message has {len(data)} bytes, expected {size}")
    return np.frombuffer(data, np.uint8).reshape(width, n_instances, LABEL_BYTES).copy()

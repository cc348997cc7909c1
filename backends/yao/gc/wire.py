"""Byte encodings of what crosses the channel: garbled circuits and label arrays. No pickle.

GarbledCircuit message (little-endian):
    header  b"VEILGC01", then uint64 tweak_base, first_instance, n_instances, and_count,
            n_consts, n_decoding_bits
    tables     and_count * 2 * n * 16 bytes, layout (and_count, 2, n, 16)
    constants  n_consts * n * 16 bytes, layout (n_consts, n, 16)
    decoding   the (width, n) bits of every output bus, buses sorted by name, concatenated
               and packed 8 per byte (np.packbits, little bit order), zero padding bits.
The receiver decodes against the circuit it expects (public) and the instance count it
expects: every size is recomputed from those, and anything else is rejected.
"""
from __future__ import annotations

import struct

import numpy as np

from veil.circuits.linear import Linearised

from veil.backends.yao.gc.types import GarbledCircuit
from veil.backends.yao.gc.plan import plan_for
from veil.backends.yao.gc.tweaks import check_range
from veil.backends.yao.gc.labels import LABEL_BYTES
from veil.util.errors import ProtocolError

MAGIC = b"VEILGC01"
_HEADER = struct.Struct("<8s6Q")


def gc_to_bytes(gc: GarbledCircuit) -> bytes:
    bits = np.concatenate([gc.decoding[k].reshape(-1) for k in sorted(gc.decoding)]
                          or [np.zeros(0, np.uint8)])
    header = _HEADER.pack(MAGIC, gc.tweak_base, gc.first_instance, gc.n_instances,
                          gc.tables.shape[0], gc.constants.shape[0], bits.size)
    return b"".join([header, gc.tables.tobytes(), gc.constants.tobytes(),
                     np.packbits(bits, bitorder="little").tobytes()])


def gc_from_bytes(data: bytes, lin: Linearised, n_instances: int) -> GarbledCircuit:
    """Parse and check a GarbledCircuit for `n_instances` instances of `lin`."""
    plan = plan_for(lin)
    n = n_instances
    if len(data) < _HEADER.size:
        raise ProtocolError("garbled circuit message too short")
    magic, tweak_base, first, n_got, ands, consts, nbits = _HEADER.unpack_from(data)
    widths = {k: len(plan.outputs[k]) for k in sorted(plan.outputs)}
    expect = (MAGIC, n, plan.and_count, len(plan.consts), sum(widths.values()) * n)
    if (magic, n_got, ands, consts, nbits) != expect:
        raise ProtocolError("garbled circuit header does not match the expected circuit")
    try:
        check_range(tweak_base, first, n, plan.and_count)
    except ValueError as e:
        raise ProtocolError(f"garbled circuit header: {e}") from None
    sizes = [ands * 2 * n * LABEL_BYTES, consts * n * LABEL_BYTES, -(-nbits // 8)]
    if len(data) != _HEADER.size + sum(sizes):
        raise ProtocolError(f"garbled circuit message has {len(data)} bytes, expected "
                         f"{_HEADER.size + sum(sizes)}")
    parts, pos = [], _HEADER.size
    for size in sizes:
        parts.append(np.frombuffer(data, np.uint8, size, pos).copy())
        pos += size
    bits = np.unpackbits(parts[2], count=nbits, bitorder="little")
    if nbits % 8 and parts[2][-1] >> (nbits % 8):
        raise ProtocolError("nonzero padding bits in the decoding information")
    decoding, pos = {}, 0
    for k, w in widths.items():
        decoding[k] = bits[pos:pos + w * n].reshape(w, n).copy()
        pos += w * n
    return GarbledCircuit(parts[0].reshape(ands, 2, n, LABEL_BYTES),
                          parts[1].reshape(consts, n, LABEL_BYTES), decoding, tweak_base, first)


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

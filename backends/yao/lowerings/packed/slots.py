"""Slot packing for the `packed` lowering (PROTOCOL.md, "Packing").

A block of rows v_0..v_{t-1} is the single integer sum_i v_i 2^(s i). Packing is linear, so
Paillier arithmetic on packed plaintexts acts slot-wise; intermediate slots may overflow or
go negative (carries and borrows cross slots) as long as each *final* slot is in range.
Unpacking checks that nothing is left above the last slot: a stray carry means a slot
overflowed, which must never be silently decoded. What is unpacked was decrypted from another
party's ciphertexts, so a value that does not fit is a ProtocolError.
"""
from __future__ import annotations

from collections.abc import Sequence

from veil.util.errors import ProtocolError


def pack(values: Sequence[int], slot_bits: int) -> int:
    """sum_i v_i 2^(s i) as a Python integer (negative v_i allowed; caller reduces mod n)."""
    acc = 0
    for v in reversed(values):
        acc = (acc << slot_bits) + int(v)
    return acc


def chunks(values: Sequence[int], slots: int) -> list[list[int]]:
    """Rows split into blocks of `slots` (the last block may be shorter)."""
    values = list(values)
    return [values[i:i + slots] for i in range(0, len(values), slots)]


def pack_blocks(values: Sequence[int], slot_bits: int, slots: int) -> list[int]:
    return [pack(block, slot_bits) for block in chunks(values, slots)]


def unpack(m: int, slot_bits: int, count: int) -> list[int]:
    """Non-negative slots: each final slot in [0, 2^s)."""
    m = int(m)
    if m < 0 or m >> (slot_bits * count):
        raise ProtocolError(f"packed value does not fit {count} slots of {slot_bits} bits")
    mask = (1 << slot_bits) - 1
    return [(m >> (slot_bits * i)) & mask for i in range(count)]


def unpack_signed(m: int, slot_bits: int, count: int, modulus: int) -> list[int]:
    """Signed slots, each final slot in [-2^(s-1), 2^(s-1)), from a residue mod `modulus`.

    The residue is first read as a signed integer (a negative total wraps to modulus - |total|),
    then slots are peeled from slot 0 up: a negative slot has borrowed 1 from the slot above,
    which subtracting it back out (m - v) >> s restores.
    """
    m, modulus = int(m), int(modulus)
    if not 0 <= m < modulus:
        raise ValueError("not a residue")
    if 2 * m > modulus:
        m -= modulus
    half, mask = 1 << (slot_bits - 1), (1 << slot_bits) - 1
    out = []
    for _ in range(count):
        v = m & mask                      # Python's & on negatives is two's complement
        if v >= half:
            v -= 1 << slot_bits
        out.append(v)
        m = (m - v) >> slot_bits
    if m:
        raise ProtocolError(f"packed value does not fit {count} signed slots of {slot_bits} bits")
    return out


def unpack_blocks(ms: Sequence[int], slot_bits: int, slots: int, rows: int,
                  modulus: int | None = None) -> list[int]:
    """Decode consecutive blocks back to `rows` values; signed when a modulus is given."""
    if len(ms) != -(-rows // slots):
        raise ValueError(f"{len(ms)} blocks cannot hold {rows} rows of {slots} slots")
    out: list[int] = []
    for k, m in enumerate(ms):
        count = min(slots, rows - k * slots)
        out += (unpack(m, slot_bits, count) if modulus is None
                else unpack_signed(m, slot_bits, count, modulus))
    return out

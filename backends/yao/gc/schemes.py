"""The garbling schemes garble() offers and what each costs per AND gate (docs/garbling.md).

Only the AND gate differs between them: half-gates sends two 16-byte ciphertexts; three-halves
sends three 8-byte half-ciphertexts and 5 control bits (1.5 kappa + 5 = 197 bits instead of
256) for 6 hashes instead of 4 at the garbler and 3 instead of 2 at the evaluator. The scheme
is named in the garbled circuit's header (wire.py) by its code.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Scheme(str, enum.Enum):
    HALF_GATES = "half-gates"
    THREE_HALVES = "three-halves"

    def __str__(self) -> str:
        return self.value


DEFAULT_SCHEME = Scheme.THREE_HALVES


@dataclass(frozen=True)
class Layout:
    """A scheme's garbled AND gate as stored and sent, per gate and instance."""
    code: int           # the scheme's number in the wire header
    rows: int           # ciphertexts
    row_bytes: int      # bytes per ciphertext
    control_bits: int   # extra bits (tables hold them as uint8 planes, the wire packs them)
    per_gate: int       # tweaks: hashed label pairs (tweaks.py)

    @property
    def bits_per_and(self) -> int:
        return 8 * self.rows * self.row_bytes + self.control_bits


LAYOUTS = {Scheme.HALF_GATES: Layout(1, 2, 16, 0, 2),
           Scheme.THREE_HALVES: Layout(2, 3, 8, 5, 3)}


def scheme_of(value: str | Scheme) -> Scheme:
    """The Scheme named by value; ValueError for anything else (a caller's bug)."""
    try:
        return Scheme(value)
    except ValueError:
        raise ValueError(f"unknown garbling scheme {value!r}: one of "
                         f"{', '.join(s.value for s in Scheme)}") from None


def by_code(code: int) -> Scheme | None:
    """The scheme with this wire code, or None."""
    return next((s for s, lay in LAYOUTS.items() if lay.code == code), None)

"""The two objects a garbling produces: the public GarbledCircuit and the private
GarblerSecrets. Their split is the misuse guard: the evaluator's functions take only the
former, and the latter refuses to be pickled or to release a bus's labels twice."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from veil.backends.yao.gc.schemes import Scheme, scheme_of


@dataclass(frozen=True, eq=False)
class GarbledCircuit:
    """What the garbler sends to the evaluator (read-only arrays).

    tables:    (and_count, rows, n, row_bytes) uint8, the ciphertexts of every AND gate and
               instance: half-gates (TG, TE), rows 2 x 16 bytes; three-halves (G0, G1, G2),
               rows 3 x 8 bytes (schemes.py)
    control:   (control_bits, and_count, n) uint8 bits: three-halves' z0..z4; none for
               half-gates
    constants: (k, n, 16) uint8, the active labels of the constant wires present (const0, const1)
    decoding:  output bus -> (width, n) uint8, the colour bits of the output zero-labels
               (not of the buses garbled as hidden: those only the garbler can decode)
    tweak_base, first_instance: the tweak layout parameters (tweaks.py)
    scheme:    the garbling scheme, which the evaluator follows
    """

    tables: np.ndarray
    constants: np.ndarray
    decoding: dict[str, np.ndarray]
    tweak_base: int
    first_instance: int
    scheme: Scheme
    control: np.ndarray

    @property
    def n_instances(self) -> int:
        return self.tables.shape[2]

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheme", scheme_of(self.scheme))
        for a in (self.tables, self.control, self.constants, *self.decoding.values()):
            a.flags.writeable = False


@dataclass(frozen=True, eq=False)
class GarblerSecrets:
    """The garbler's private state: never leaves the garbler (repr shows no secrets).

    Each input bus's labels may be released once, through input_labels (garbler's own values)
    or label_pairs (to the OT); buses whose zero-labels came from outside count as released.
    Releasing both labels of a wire, or two encodings of one bus, would hand the evaluator R.
    """

    delta: np.ndarray = field(repr=False)
    zero_labels: dict[str, np.ndarray] = field(repr=False)
    n_instances: int
    _released: set[str] = field(default_factory=set, repr=False)
    # zero-labels of the hidden output buses (no decoding bits sent): translate.py's input
    output_zero: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for a in (self.delta, *self.zero_labels.values(), *self.output_zero.values()):
            a.flags.writeable = False

    def __reduce__(self):
        # no pickling (nor multiprocessing / pickle-based channels): it would carry R away
        raise TypeError("GarblerSecrets must never be serialised")

    def _release(self, bus: str) -> np.ndarray:
        if bus not in self.zero_labels:
            raise KeyError(f"no input bus {bus!r}")
        if bus in self._released:
            raise ValueError(f"the labels of bus {bus!r} were already released")
        self._released.add(bus)
        return self.zero_labels[bus]

"""Boolean-circuit layer: IR, builder, circuit library, passes, scheduling,
bit-sliced plaintext evaluation and Bristol / DOT export.

The evaluator is imported as `from veil.circuits.evaluate import evaluate`
(not re-exported here, so the name keeps meaning the module)."""
from .builder import (Builder, const_bits, shift_left, shift_right, sign_extend, truncate,
                      zero_extend)
from .circuit import Circuit, CircuitError
from .gates import Gate, Op
from .linear import Linearised, Step, linearise
from .passes import fold_constants, hash_structurally, optimise, remove_dead

__all__ = [
    "Builder", "Circuit", "CircuitError", "Gate", "Linearised", "Op", "Step", "const_bits",
    "fold_constants", "hash_structurally", "linearise", "optimise", "remove_dead",
    "shift_left", "shift_right", "sign_extend", "truncate", "zero_extend",
]

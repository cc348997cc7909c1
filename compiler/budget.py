"""How much a spec may ask the compiler for, checked before the work it would cost is done.

Specs reach the cloud over the network (a signed manifest of at most 64 KiB), so every size
a spec chooses is bounded here, in one place, and charged before anything is allocated for
it; an overrun is one SpecError at the spec's position that names the limit.

- The text (parser.py): its length bounds the parse (lark takes 10 to 30 us of CPU per
  character); nesting bounds the checker's recursion over expressions; a number's length its
  digits.
- Activations (check.py): how many a spec defines, their segments and degree.
- Activation circuits (check.py, before lower.py synthesises anything): each hidden layer's
  activation is quantised for its accumulator (no range analysis yet) and its circuit's size
  estimated from the table (circuit_estimate.py: an upper bound on the ANDs of the bare and
  the masked circuit, from segment count, degree, coefficients and widths); synthesising,
  optimising, verifying, linearising and digesting cost up to about 0.5 ms of CPU per
  estimated AND here, so the circuit budgets bound the compile's time (the worst specs they
  admit take 8 to 11 s of CPU, bench/compile_budget.py; burger 1.7 s) and the range
  analysis cap its memory.
- Weights (check.py): the checker draws or reads every weight in float64, quantises it and
  lowers each layer, so a 400-byte spec that declares 40 million weights costs gigabytes.
  burger, the largest shipped model (the seed paper's architecture), has 9,437,184 weights in
  its largest layer and 27,800,800 in all.

Formats are bounded by the fixed-point semantics itself (fixedpoint.MAX_TOTAL: 62 bits, and
so is an accumulator); kappa by the service (40..128).
"""
from __future__ import annotations

from veil.compiler.errors import SourcePos, SpecError

# -- the text (parser.py) ------------------------------------------------------------------
MAX_SPEC_CHARS = 1 << 14             # 16,384: compact.veil has 1,010, the prelude 267; parsing
                                     # the worst 16 KiB takes 0.25 s of CPU
MAX_NUMBER_CHARS = 100               # no size or coefficient needs more; Python's int()
                                     # refuses over 4300 digits with a ValueError
MAX_NESTING = 64                     # parentheses, and operators within operators; a degree-16
                                     # polynomial in Horner form nests 16 and 33, tanh* 0 and 4

# -- activations (check.py) ----------------------------------------------------------------
MAX_ACTIVATIONS = 16                 # defined by one spec (the prelude's are not counted)
MAX_SEGMENTS = 64                    # per activation: tanh* has 2
MAX_DEGREE = 16                      # of an activation polynomial: tanh* has 2

# -- activation circuits (check.py, circuit_estimate.py) --------------------------------------
MAX_RANGE_CELLS = 1 << 21            # magnitudes x (degree + 1) the range analysis evaluates
                                     # (each an int64, a few arrays at once: tens of MB);
                                     # tanh* in fix<10,8>: 658 x 3 = 1,974
MAX_ACTIVATION_ANDS = 1 << 13        # 8,192, estimated for one activation circuit (bare and
                                     # masked): tanh* is charged about 1,200, 6.8 times less;
                                     # tanh fits of 16 quadratic, 8 cubic or 6 quartic segments
                                     # in fix<16,12> with 14-bit coefficients fit
MAX_MODEL_ANDS = 1 << 14             # 16,384 for all of a model's activation circuits, each
                                     # distinct (activation, accumulator) charged once, as
                                     # lower.py shares them: burger's two 2,405, 6.8 times less
KAPPA_CHARGED = 128                  # the masked circuit's r_u adder is l_a + kappa + 1 bits;
                                     # charged at the largest kappa the service accepts

# -- weights (check.py) ----------------------------------------------------------------------
MAX_LAYER_WEIGHTS = 1 << 24          # 16,777,216: burger's 3072 x 3072 layer fits 1.8 times
MAX_MODEL_WEIGHTS = 1 << 25          # 33,554,432: burger's five layers fit 1.2 times
MAX_DENSE_LAYERS = 32                # each hidden layer lowers its own activation circuit


class WeightBudget:
    """Charged once per dense clause, in order."""

    def __init__(self) -> None:
        self.layers = self.weights = 0

    def charge(self, k: int, n_in: int, n_out: int, pos: SourcePos) -> None:
        self.layers += 1
        if self.layers > MAX_DENSE_LAYERS:
            raise SpecError.at(pos, f"layer {k}: a model may have at most {MAX_DENSE_LAYERS} "
                                    "dense layers")
        weights = n_in * n_out
        if weights > MAX_LAYER_WEIGHTS:
            raise SpecError.at(pos, f"layer {k} has {weights} weights, more than the "
                                    f"{MAX_LAYER_WEIGHTS} a layer may have")
        self.weights += weights
        if self.weights > MAX_MODEL_WEIGHTS:
            raise SpecError.at(pos, f"layer {k} brings the model to {self.weights} weights, "
                                    f"more than the {MAX_MODEL_WEIGHTS} a model may have")


class CircuitBudget:
    """Charged once per hidden layer, in order, with its activation's quantised table
    (`cells`: the range analysis's size; `ands`: the estimated circuit size); a table
    already charged (the same activation and accumulator) costs nothing again."""

    def __init__(self) -> None:
        self.ands = 0
        self._charged: set = set()

    def charge(self, k: int, name: str, key, cells: int, ands: int, pos: SourcePos) -> None:
        if key in self._charged:
            return
        self._charged.add(key)
        if cells > MAX_RANGE_CELLS:
            raise SpecError.at(pos, f"layer {k}: activation '{name}' needs a range analysis of "
                                    f"{cells} values (magnitudes x powers), more than the "
                                    f"{MAX_RANGE_CELLS} allowed")
        if ands > MAX_ACTIVATION_ANDS:
            raise SpecError.at(pos, f"layer {k}: activation '{name}' needs about {ands} ANDs, "
                                    f"more than the {MAX_ACTIVATION_ANDS} an activation "
                                    "circuit may have")
        self.ands += ands
        if self.ands > MAX_MODEL_ANDS:
            raise SpecError.at(pos, f"layer {k}: activation '{name}' brings the model's "
                                    f"circuits to about {self.ands} ANDs, more than the "
                                    f"{MAX_MODEL_ANDS} a model may have")

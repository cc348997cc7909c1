"""How much a spec may ask the compiler for, checked before the work it would cost is done.

Specs reach the cloud over the network (a signed manifest of at most 64 KiB), so every size
a spec chooses is bounded here, in one place, and charged before anything is allocated for
it; an overrun is one SpecError at the spec's position that names the limit.

- The text (parser.py): its length bounds the parse (lark takes 10 to 30 us of CPU per
  character); nesting bounds the checker's recursion over expressions; a number's length its
  digits.
- Weights (check.py): the checker draws or reads every weight in float64, quantises it and
  lowers each layer, so a 400-byte spec that declares 40 million weights costs gigabytes.
  burger, the largest shipped model (the seed paper's architecture), has 9,437,184 weights in
  its largest layer and 27,800,800 in all.
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

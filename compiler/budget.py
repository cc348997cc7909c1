"""How much a spec may ask the compiler for, checked before anything is allocated.

A spec is a few hundred bytes, but its dense clauses declare arrays: the checker draws or
reads every weight in float64, quantises it and lowers each layer, so a 400-byte spec that
declares 40 million weights costs gigabytes. Specs reach the cloud over the network, so the
sizes are charged against these budgets clause by clause, and the first clause over budget
is a SpecError at its position. burger, the largest shipped model (the seed paper's
architecture), has 9,437,184 weights in its largest layer and 27,800,800 in all.
"""
from __future__ import annotations

from veil.compiler.errors import SourcePos, SpecError

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

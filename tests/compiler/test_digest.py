"""The structure digest covers the program's structure, down to each gate, and not its
weights; the display statistics it replaced did not see a changed gate."""
import dataclasses

import numpy as np

from veil.compiler.digest import describe, structure_digest
from veil.compiler.emit import stats
from veil.models.catalog import compile_model

WEIGHTLESS = "weights random seed 0"


def tiny_text(weights: str) -> str:
    from veil.models.catalog import resolve_spec
    text = resolve_spec("tiny").read_text()
    lines = [WEIGHTLESS if line.strip().startswith("weights") else line
             for line in text.splitlines()]
    return "\n".join(lines).replace(WEIGHTLESS, weights) + "\n"


def test_the_same_program_has_the_same_digest():
    assert structure_digest(compile_model("tiny")) == structure_digest(compile_model("tiny"))


def test_weights_do_not_enter_the_digest():
    a = compile_model(tiny_text("weights random seed 1"))
    b = compile_model(tiny_text("weights random seed 2"))
    assert not np.array_equal(a.dense[0].layer.weights, b.dense[0].layer.weights)
    assert structure_digest(a) == structure_digest(b)


def test_lowering_and_security_enter_the_digest():
    base = structure_digest(compile_model("tiny"))
    assert structure_digest(compile_model("tiny", "paper")) != base
    assert structure_digest(compile_model("tiny", key_bits=3072)) != base
    assert structure_digest(compile_model("tiny", kappa=41)) != base


def test_a_rewired_gate_changes_the_digest_but_not_the_stats():
    program = compile_model("tiny")
    act = program.activations[0]
    before_stats, before = stats(program), structure_digest(program)
    lin = act.masked_linear
    k = next(i for i, s in enumerate(lin.steps) if s.op.name == "AND" and len(s) > 1)
    step = lin.steps[k]
    a = step.a.copy()
    a[0] = step.b[0]                         # one AND now reads another wire: same counts
    a.flags.writeable = False
    steps = lin.steps[:k] + (dataclasses.replace(step, a=a),) + lin.steps[k + 1:]
    act.__dict__["masked_linear"] = dataclasses.replace(lin, steps=steps)
    assert stats(program) == before_stats
    assert structure_digest(program) != before
    assert describe(program)["layers"][0]["activation"]["masked"]["steps"][k][2][0] == int(a[0])

"""The execution plan: malformed circuits are rejected, label slots are reused safely, and
cutting AND steps into parts keeps every gate exactly once."""
import dataclasses

import numpy as np
import pytest
from .garble_kit import random_circuit, tiny_activation

from veil.backends.yao.gc.plan import _build
from veil.circuits.gates import Op
from veil.circuits.linear import Step


def _replace_step(lin, k, **changes):
    steps = list(lin.steps)
    steps[k] = dataclasses.replace(steps[k], **changes)
    return dataclasses.replace(lin, steps=tuple(steps))


def _first_wide(lin, op):
    return next(k for k, st in enumerate(lin.steps) if st.op is op and len(st) > 1)


def test_malformed_circuits_are_rejected():
    lin = tiny_activation()[0]
    k = _first_wide(lin, Op.AND)
    st = lin.steps[k]
    late = lin.steps[-1].out[:1]
    bad = [
        _replace_step(lin, k, a=np.concatenate([late, st.a[1:]])),          # read before write
        _replace_step(lin, k, gate_index=st.gate_index + 1),                 # tweak numbering
        _replace_step(lin, k, out=st.out[::-1].copy()),                       # not a range
        _replace_step(lin, k, b=st.b[:-1]),                                   # ragged
        _replace_step(lin, k, op=Op.INPUT),                                   # unknown op
        dataclasses.replace(lin, and_count=lin.and_count + 1),
        dataclasses.replace(lin, steps=lin.steps[:-1]),                      # output never set
        dataclasses.replace(lin, steps=lin.steps + (Step(Op.NOT, st.out, st.a),)),  # rewrite
    ]
    for b in bad:
        with pytest.raises(ValueError):
            _build(b)


@pytest.mark.parametrize("seed", range(6))
def test_slots_never_overwrite_a_live_wire(seed):
    lin = random_circuit(seed) if seed else tiny_activation()[0]
    plan = _build(lin)
    slot = {}  # replay the plan on wires: slot -> wire currently held
    for name, idx in lin.inputs.items():
        slot.update(zip(plan.inputs[name].tolist(), idx.tolist()))
    for w, v in ((lin.const0, 0), (lin.const1, 1)):
        if w >= 0:
            slot[dict((v2, s) for s, v2 in plan.consts)[v]] = w
    for st, pst in zip(lin.steps, plan.steps):
        for sel, wires in ((pst.a, st.a), (pst.b, st.b)):
            if sel is not None:
                held = np.arange(plan.n_slots)[sel] if isinstance(sel, slice) else sel
                assert [slot[s] for s in held.tolist()] == wires.tolist()
        slot.update(zip(range(pst.out.start, pst.out.stop), st.out.tolist()))
    for name, idx in lin.outputs.items():
        assert [slot[s] for s in plan.outputs[name].tolist()] == idx.tolist()
    assert plan.n_slots < lin.n_wires or lin.n_wires < 50


@pytest.mark.parametrize("n", [1, 100, 4096])
def test_cut_and_steps_cover_every_gate_once(n):
    plan = _build(tiny_activation()[0])
    parts = [st for st in plan.steps_for(n) if st.op is Op.AND]
    gates = np.concatenate([np.arange(st.gates.start, st.gates.stop) for st in parts])
    assert np.array_equal(gates, np.arange(plan.and_count))
    assert all(st.width * n <= max(n, 4096) or st.width == 1 for st in parts)
    assert max(st.width * n for st in parts) <= plan.and_capacity(n)

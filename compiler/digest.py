"""The structure digest: SHA-256 of a canonical description of a Program without its weights.

Owner, cloud and user each compile the published (weights-free) spec, and must run exactly
the same structure: shapes, fixed-point formats, normalisation, lowering, security settings,
packed layouts, the activations' integer tables and the very gates of every circuit the
protocol garbles. `describe` lists all of that as plain JSON-able data (no display text: two
circuits with the same gate counts but different gates have different digests); the digest
is the hash of its canonical JSON.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from veil.circuits.linear import Linearised
from veil.compiler.program import Program


def _linearised(lin: Linearised) -> dict:
    return {"wires": lin.n_wires, "const": [lin.const0, lin.const1],
            "inputs": {k: v.tolist() for k, v in sorted(lin.inputs.items())},
            "outputs": {k: v.tolist() for k, v in sorted(lin.outputs.items())},
            "steps": [[s.op.name, s.out.tolist(), s.a.tolist(), s.b.tolist(),
                       s.gate_index.tolist()] for s in lin.steps]}


def describe(program: Program) -> dict:
    """Everything public about the program, as canonical data."""
    m = program.model
    layers = []
    for st in program.dense:
        L = st.layer
        act = program.activation(L.index)
        layers.append({
            "index": L.index, "in": L.n_in, "out": L.n_out,
            "formats": [str(L.in_format), str(L.weight_format), str(L.bias_format)],
            "acc": [L.acc_bits, L.acc_frac],
            "packed": dataclasses.asdict(st.packed),
            "activation": None if act is None else {
                "table": [act.table.name, act.table.odd, act.table.acc_bits, act.table.acc_frac,
                          str(act.table.out_format), act.table.coeff_frac,
                          list(act.table.thresholds), [list(c) for c in act.table.coeffs],
                          act.table.saturation],
                "bare": _linearised(act.linear), "masked": _linearised(act.masked_linear)}})
    return {"model": m.name, "lowering": program.lowering.value,
            "security": dataclasses.asdict(program.security),
            "patch": [m.geometry.input_size, m.geometry.output_size, m.geometry.stride],
            "normalisation": [m.normalisation.scale.hex(), m.normalisation.offset.hex()],
            "residual": m.residual,
            "formats": [str(m.input_format), str(m.activation_format), str(m.weight_format),
                        str(m.bias_format), m.coeff_frac, str(m.output_format)],
            "layers": layers}


def structure_digest(program: Program) -> str:
    text = json.dumps(describe(program), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()

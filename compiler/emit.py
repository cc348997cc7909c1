"""What `veil compile --emit` prints: stats (text or JSON), the IR, Bristol and DOT circuits."""
from __future__ import annotations

import json

from veil.circuits.bristol import to_bristol
from veil.circuits.dot import to_dot
from veil.compiler.program import ActivationStage, Program, StageOp
from veil.util.errors import UsageError


class EmitError(UsageError):
    """An --emit or --layer the model cannot answer (no such layer, no activation circuit)."""


def _circuit_stats(circuit) -> dict:
    c = circuit.counts()
    return {"and": c["AND"], "xor": c["XOR"], "not": c["NOT"], "and_depth": c["and_depth"],
            "inputs": circuit.input_widths(), "outputs": circuit.output_widths()}


def stats(program: Program, layer: int | None = None) -> dict:
    m = program.model
    out = {"model": m.name, "spec": m.path, "weights": m.weights_source,
           "patch": {"input": m.geometry.input_size, "output": m.geometry.output_size,
                     "stride": m.geometry.stride},
           "formats": {"input": str(m.input_format), "activation": str(m.activation_format),
                       "weight": str(m.weight_format), "bias": str(m.bias_format),
                       "coefficient_frac": m.coeff_frac, "output": str(m.output_format)},
           "lowering": program.lowering.value,
           "security": {"modulus_bits": program.security.modulus_bits,
                        "kappa": program.security.kappa},
           "predict": "residual" if m.residual else "clean",
           "macs_per_patch": m.macs_per_patch(), "layers": []}
    for st in program.dense:
        L = st.layer
        if layer is not None and L.index != layer:
            continue
        entry = {"layer": L.index, "in": L.n_in, "out": L.n_out, "macs": L.n_in * L.n_out,
                 "in_format": str(L.in_format), "acc_bits": L.acc_bits, "acc_frac": L.acc_frac,
                 "packed": {"slot_bits": st.packed.slot_bits, "slots": st.packed.slots,
                            "correction_bits": st.packed.correction_bits,
                            "blocks": st.packed.blocks, "ciphertexts": st.packed.ciphertexts},
                 "activation": None}
        act = program.activation(L.index)
        if act is not None:
            entry["activation"] = {"name": act.table.name, "neurons": act.width,
                                   "bare": _circuit_stats(act.circuit),
                                   "masked": _circuit_stats(act.masked)}
        out["layers"].append(entry)
    if layer is not None and not out["layers"]:
        raise EmitError(f"no layer {layer} (layers are numbered 1..{len(program.dense)})")
    return out


def stats_text(s: dict) -> str:
    f = s["formats"]
    lines = [f"model {s['model']} ({s['spec']}), weights: {s['weights']}",
             f"patch {s['patch']['input']}x{s['patch']['input']} -> "
             f"{s['patch']['output']}x{s['patch']['output']}, stride {s['patch']['stride']}, "
             f"predicts the {s['predict']} centre; {s['macs_per_patch']:,} MACs per patch",
             f"formats: input {f['input']}, activation {f['activation']}, weight {f['weight']}, "
             f"bias {f['bias']}, coefficients {f['coefficient_frac']} fractional bits, "
             f"output {f['output']}",
             f"lowering {s['lowering']}, |N| = {s['security']['modulus_bits']}, "
             f"kappa = {s['security']['kappa']}"]
    for L in s["layers"]:
        p = L["packed"]
        lines.append(f"layer {L['layer']}: dense {L['in']} -> {L['out']}, {L['macs']:,} MACs, "
                     f"input {L['in_format']}, accumulator {L['acc_bits']} bits "
                     f"({L['acc_frac']} fractional); packed: {p['slot_bits']}-bit slots, "
                     f"{p['slots']} per ciphertext, {p['blocks']} blocks, "
                     f"{p['ciphertexts']} column ciphertexts, {p['correction_bits']}-bit "
                     f"corrections")
        a = L["activation"]
        if a:
            for kind in ("bare", "masked"):
                c = a[kind]
                lines.append(f"  {a['name']} x {a['neurons']} ({kind}): {c['and']} AND, "
                             f"{c['xor']} XOR, {c['not']} NOT, AND-depth {c['and_depth']}; "
                             f"in {_buses(c['inputs'])} -> out {_buses(c['outputs'])}")
    return "\n".join(lines) + "\n"


def _buses(widths: dict) -> str:
    return ", ".join(f"{k}[{w}]" for k, w in widths.items())


def ir_text(program: Program) -> str:
    lines = [f"program {program.model.name} lowering={program.lowering.value} "
             f"kappa={program.security.kappa} modulus_bits={program.security.modulus_bits}"]
    for name, st in zip(_names(program), program.stages):
        if st.op is StageOp.INPUT:
            lines.append(f"{name}: input width={st.width} format={st.format}")
        elif st.op is StageOp.DENSE:
            L = st.layer
            lines.append(f"{name}: dense {L.n_in}->{L.n_out} weight={L.weight_format} "
                         f"bias={L.bias_format} acc=<{L.acc_bits},{L.acc_frac}> "
                         f"packed=<slot {st.packed.slot_bits}, {st.packed.slots}/ct>")
        elif st.op is StageOp.ACTIVATION:
            t = st.table
            c = st.circuit.counts()
            lines.append(f"{name}: activation {t.name} width={st.width} "
                         f"{'odd' if t.odd else 'even'} out={t.out_format} shift={t.shift} "
                         f"thresholds={list(t.thresholds)} coeffs={[list(k) for k in t.coeffs]} "
                         f"saturation={t.saturation} circuit=AND:{c['AND']},XOR:{c['XOR']},"
                         f"NOT:{c['NOT']},depth:{c['and_depth']}")
        else:
            lines.append(f"{name}: output width={st.width} format={st.format}"
                         + (" + noisy centre (residual)" if program.model.residual else ""))
    edges = " -> ".join(_names(program))
    return "\n".join(lines + [f"flow: {edges}"]) + "\n"


def _names(program: Program) -> list[str]:
    import networkx as nx
    return list(nx.topological_sort(program.graph))


def activation_for(program: Program, layer: int | None) -> ActivationStage:
    acts = program.activations
    if not acts:
        raise EmitError("this model has no activation layer")
    if layer is None:
        return acts[0]
    act = program.activation(layer)
    if act is None:
        have = ", ".join(str(a.index) for a in acts)
        raise EmitError(f"layer {layer} has no activation circuit (layers with one: {have})")
    return act


def emit(program: Program, what: str, layer: int | None = None, unmasked: bool = False,
         as_json: bool = False) -> str:
    if what == "stats":
        s = stats(program, layer)
        return json.dumps(s, indent=2) + "\n" if as_json else stats_text(s)
    if what == "ir":
        return ir_text(program)
    act = activation_for(program, layer)
    circuit = act.circuit if unmasked else act.masked
    if what == "bristol":
        return to_bristol(circuit)
    if what == "dot":
        return to_dot(circuit)
    raise EmitError(f"unknown --emit {what!r}")

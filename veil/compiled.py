"""`veil.Program`: what `veil.compile` returns, a compiled model to look at and to run.

It wraps the compiler's Program IR (`.ir`, veil.compiler.program) and answers in the words
of `veil compile`: `stats()` and `emit(...)` are the very text the command prints (the same
functions make it), `activation_circuit(layer)` the gate graph the protocol garbles.
Heavy modules are imported on first use, so that `import veil` stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

    from veil.compiler.program import Program as ProgramIR


class Stats(dict):
    """`veil compile --emit stats --json` as a dict; str() is what `--emit stats` prints."""

    def __str__(self) -> str:
        from veil.compiler.emit import stats_text
        return stats_text(self)


class Program:
    """A compiled model: its layers, fixed-point formats and activation circuits."""

    def __init__(self, ir: ProgramIR):
        self.ir = ir

    @property
    def name(self) -> str:
        return self.ir.model.name

    @property
    def lowering(self) -> str:
        return self.ir.lowering.value

    @property
    def key_bits(self) -> int:
        return self.ir.security.modulus_bits

    @property
    def kappa(self) -> int:
        return self.ir.security.kappa

    @property
    def formats(self) -> dict:
        """The spec's fixed-point formats as text, e.g. {'input': 'fix<12,9>', ...}."""
        return self.stats()["formats"]

    @property
    def layers(self) -> list[dict]:
        """One dict per dense layer (sizes, formats, packing, its activation's circuits)."""
        return self.stats()["layers"]

    def stats(self, layer: int | None = None) -> Stats:
        """As `veil compile --emit stats [--layer N]` (str()) or with `--json` (the dict)."""
        from veil.compiler.emit import stats
        return Stats(stats(self.ir, layer))

    def emit(self, what: str = "stats", layer: int | None = None, unmasked: bool = False,
             as_json: bool = False) -> str:
        """Exactly what `veil compile --emit WHAT [--layer N] [--unmasked] [--json]` prints."""
        from veil.compiler.emit import emit
        return emit(self.ir, what, layer, unmasked, as_json)

    def to_bristol(self, layer: int | None = None, unmasked: bool = False) -> str:
        """The activation circuit of `layer` (default: the first) in Bristol Fashion: the
        masked one the protocol garbles, or with `unmasked` the bare activation."""
        return self.emit("bristol", layer, unmasked)

    def to_dot(self, layer: int | None = None, unmasked: bool = False) -> str:
        """The same circuit as a Graphviz DOT picture."""
        return self.emit("dot", layer, unmasked)

    def activation_circuit(self, layer: int | None = None, unmasked: bool = False) -> nx.DiGraph:
        """A copy of the gate graph of `layer`'s activation circuit (as `to_bristol`): nodes are
        wire ids whose `gate` attribute is a Gate (`.op`, an Op such as Op.AND, and `.args`,
        its operand wires); `graph["inputs"]` and `graph["outputs"]` name the buses, each a
        list of wire ids, least significant bit first."""
        from veil.compiler.emit import activation_for
        act = activation_for(self.ir, layer)
        circuit = act.circuit if unmasked else act.masked
        graph = circuit.graph.copy()
        graph.graph["inputs"] = {name: list(bits) for name, bits in circuit.inputs.items()}
        graph.graph["outputs"] = {name: list(bits) for name, bits in circuit.outputs.items()}
        return graph

    def summary(self) -> str:
        """Its layers and fixed-point formats, one line each."""
        from veil.compiler.program import StageOp
        m, ir = self.ir.model, self.ir
        g = m.geometry
        lines = [f"Program {self.name}: lowering {self.lowering}, {self.key_bits}-bit keys, "
                 f"kappa {self.kappa}",
                 f"  patch {g.input_size}x{g.input_size} -> {g.output_size}x{g.output_size}, "
                 f"stride {g.stride}, predicts the {'residual' if m.residual else 'clean'} centre"]
        for stage in ir.stages:
            if stage.op is StageOp.INPUT:
                lines.append(f"  input    {stage.width} x {stage.format}")
            elif stage.op is StageOp.DENSE:
                L = stage.layer
                lines.append(f"  layer {L.index}  dense {L.n_in} -> {L.n_out}, weight "
                             f"{L.weight_format}, bias {L.bias_format}, accumulator "
                             f"{L.acc_format}")
            elif stage.op is StageOp.ACTIVATION:
                t = stage.table
                lines.append(f"           {t.name} -> {t.out_format}, "
                             f"{stage.masked.counts()['AND']} AND gates garbled per neuron")
            else:
                lines.append(f"  output   {stage.width} x {stage.format}"
                             + (" + noisy centre" if m.residual else ""))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return self.summary()

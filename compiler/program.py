"""The Program IR: a networkx chain of typed stages (Input, Dense, Activation, Output).

Each Dense stage carries its checked layer (quantised weights, formats, accumulator width)
and the layout of the chosen Paillier lowering; each Activation stage carries its integer
table, the bare circuit and the masked circuit the protocol garbles (both optimised), and
their linearised forms, which is what the backends execute.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np

from veil.circuits.circuit import Circuit
from veil.circuits.linear import Linearised, linearise
from veil.compiler.activation_table import ActivationTable
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.model import CheckedModel, Layer
from veil.compiler.packed_layout import PackedLayout, SecurityParams


class StageOp(enum.Enum):
    INPUT = "input"
    DENSE = "dense"
    ACTIVATION = "activation"
    OUTPUT = "output"


class Lowering(enum.Enum):
    PAPER = "paper"
    PACKED = "packed"


@dataclass(frozen=True, eq=False)
class InputStage:
    width: int
    format: FixFormat
    op: StageOp = StageOp.INPUT


@dataclass(frozen=True, eq=False)
class DenseStage:
    layer: Layer
    packed: PackedLayout
    op: StageOp = StageOp.DENSE

    @property
    def width(self) -> int:
        return self.layer.n_out


@dataclass(eq=False)
class ActivationStage:
    index: int
    width: int
    table: ActivationTable
    circuit: Circuit           # bare: x -> t
    masked: Circuit            # protocol: x_masked, r_c, r_u -> y_masked
    op: StageOp = StageOp.ACTIVATION
    # The linearised forms, shared by the stages lower.py gives the same circuits (a deep
    # model's layers mostly share one), so each circuit is linearised once.
    forms: dict = field(default_factory=dict, repr=False)

    @cached_property
    def linear(self) -> Linearised:
        if "bare" not in self.forms:
            self.forms["bare"] = linearise(self.circuit)
        return self.forms["bare"]

    @cached_property
    def masked_linear(self) -> Linearised:
        if "masked" not in self.forms:
            self.forms["masked"] = linearise(self.masked)
        return self.forms["masked"]


@dataclass(frozen=True, eq=False)
class OutputStage:
    width: int
    format: FixFormat
    op: StageOp = StageOp.OUTPUT


@dataclass(eq=False)
class Program:
    model: CheckedModel
    lowering: Lowering
    security: SecurityParams
    graph: nx.DiGraph = field(repr=False)

    @property
    def stages(self) -> list:
        return [self.graph.nodes[n]["stage"] for n in nx.topological_sort(self.graph)]

    @property
    def dense(self) -> list[DenseStage]:
        return [s for s in self.stages if s.op is StageOp.DENSE]

    def activation(self, layer_index: int) -> ActivationStage | None:
        name = f"act{layer_index}"
        return self.graph.nodes[name]["stage"] if name in self.graph else None

    @property
    def activations(self) -> list[ActivationStage]:
        return [s for s in self.stages if s.op is StageOp.ACTIVATION]

    # -- the fixed-point boundary every exact backend shares --------------------------------
    def quantise_input(self, pixels: np.ndarray) -> np.ndarray:
        fmt = self.model.input_format
        x = fmt.quantise(self.model.normalisation.forward(np.asarray(pixels, np.float64)))
        return np.clip(x, fmt.min_int, fmt.max_int)

    def finish_output(self, q: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Network output accumulators -> denoised patch in output_format. For a residual
        model the quantised noisy centre is added (exactly, shifted to the output's
        fractional bits); in the protocol the user does this after decrypting: it holds
        the noisy patch, so it costs nothing and reveals nothing."""
        if not self.model.residual:
            return q
        shift = self.model.output_format.frac - self.model.input_format.frac
        return q + (self.model.centre(np.asarray(x, np.int64)) << shift)

    def dequantise_output(self, q: np.ndarray) -> np.ndarray:
        fmt = self.model.output_format
        return self.model.normalisation.inverse(np.asarray(q, np.float64) / 2.0 ** fmt.frac)

    def verify(self) -> None:
        """Check the IR invariants: a single chain input -> (dense [-> act])* -> output,
        widths that chain, and well-formed circuits whose buses match the formats."""
        g = self.graph
        if not nx.is_directed_acyclic_graph(g) or not nx.is_weakly_connected(g):
            raise ValueError("program graph must be a connected DAG")
        stages = self.stages
        if stages[0].op is not StageOp.INPUT or stages[-1].op is not StageOp.OUTPUT:
            raise ValueError("program must start with input and end with output")
        width = stages[0].width
        verified: set[int] = set()          # ids of circuits (alive: the stages hold them)
        for st in stages[1:]:
            if st.op is StageOp.DENSE:
                if st.layer.n_in != width:
                    raise ValueError(f"dense{st.layer.index} reads {st.layer.n_in}, gets {width}")
                width = st.width
            elif st.width != width:
                raise ValueError(f"{st.op.value} stage width {st.width} != {width}")
            if st.op is StageOp.ACTIVATION:
                for circuit in (st.circuit, st.masked):
                    if id(circuit) not in verified:
                        circuit.verify()
                        verified.add(id(circuit))
                if st.circuit.input_widths() != {"x": st.table.acc_bits}:
                    raise ValueError(f"act{st.index}: input bus does not match the accumulator")
                if st.circuit.output_widths() != {"t": st.table.out_format.total}:
                    raise ValueError(f"act{st.index}: output bus does not match the format")

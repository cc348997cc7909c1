"""Lowering: a checked model -> Program (stages, packed layouts, optimised activation circuits).

Every neuron of every layer that shares an activation and the same formats shares one
circuit: it is synthesised, optimised, verified and linearised once (the burger spec has four
hidden layers but only two distinct accumulator widths).
"""
from __future__ import annotations

import networkx as nx

from veil.circuits.passes import optimise
from veil.compiler.synthesis import activation_circuit, masked_activation_circuit
from veil.compiler.activation_table import ActivationRangeError, ActivationTable
from veil.compiler.errors import SpecError
from veil.compiler.model import CheckedModel
from veil.compiler.program import (ActivationStage, DenseStage, InputStage, Lowering,
                                   OutputStage, PackedLayout, Program, SecurityParams)


def activation_table(model: CheckedModel, layer) -> ActivationTable:
    try:
        return ActivationTable.build(layer.activation, layer.acc_bits, layer.acc_frac,
                                     model.activation_format, model.coeff_frac)
    except ActivationRangeError as exc:
        raise SpecError.at(layer.pos, f"layer {layer.index}: {exc}") from None


def lower(model: CheckedModel, lowering: Lowering = Lowering.PACKED,
          security: SecurityParams = SecurityParams()) -> Program:
    g = nx.DiGraph()
    circuits: dict[ActivationTable, tuple] = {}
    prev = "input"
    g.add_node(prev, stage=InputStage(width=model.geometry.input_size ** 2,
                                      format=model.input_format))
    for layer in model.layers:
        name = f"dense{layer.index}"
        g.add_node(name, stage=DenseStage(layer=layer, packed=PackedLayout.of(layer, security)))
        g.add_edge(prev, name)
        prev = name
        if layer.activation is None:
            continue
        table = activation_table(model, layer)
        if table not in circuits:
            circuits[table] = (optimise(activation_circuit(table)),
                               optimise(masked_activation_circuit(table, security.kappa)), {})
        bare, masked, forms = circuits[table]
        name = f"act{layer.index}"
        g.add_node(name, stage=ActivationStage(index=layer.index, width=layer.n_out,
                                               table=table, circuit=bare, masked=masked,
                                               forms=forms))
        g.add_edge(prev, name)
        prev = name
    g.add_node("output", stage=OutputStage(width=model.layers[-1].n_out,
                                           format=model.output_format))
    g.add_edge(prev, "output")
    return Program(model=model, lowering=lowering, security=security, graph=g)

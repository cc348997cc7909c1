"""`veil export`: the float network a spec describes as an ONNX model.

One Gemm per dense layer (transB=1: ONNX's B is Veil's w, (n_out, n_in)), float32 weights,
and the real Tanh after every hidden layer: the model the `float` backend runs. Its input is
the normalised patch, (N, input_size**2); its output the network's (N, output_size**2), before
a residual model's noisy centre is added back. The normalisation and the prediction kind go
in the metadata, so that `veil import` gives back the same spec.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from veil.models.catalog import load_model
from veil.models.onnx_import import ACTIVATION
from veil.models.onnx_support import META_OFFSET, META_PREDICT, META_SCALE, require_onnx
from veil.util.atomic import atomic_write_bytes

OPSET = 13          # Gemm with an optional C, Tanh: supported by every current runtime
IR_VERSION = 7      # the IR of opset 13, readable by older onnx and onnxruntime releases


def export_onnx(spec: str | Path, output: str | Path) -> list[str]:
    """Write the ONNX model of SPEC (a built-in name or a .veil file); return report lines."""
    onnx = require_onnx()
    from onnx import TensorProto, helper, numpy_helper
    model = load_model(spec)
    g = model.geometry
    nodes, inits, notes = [], [], []
    value = "input"
    for layer in model.layers:
        k = layer.index
        inits += [numpy_helper.from_array(layer.weights_float.astype(np.float32), f"w{k}"),
                  numpy_helper.from_array(layer.bias_float.astype(np.float32), f"b{k}")]
        out = "output" if layer.activation is None else f"dense{k}"
        nodes.append(helper.make_node("Gemm", [value, f"w{k}", f"b{k}"], [out],
                                      name=f"dense{k}", transB=1))
        value = out
        if layer.activation is not None:
            nodes.append(helper.make_node("Tanh", [value], [f"tanh{k}"], name=f"tanh{k}"))
            value = f"tanh{k}"
            if layer.activation.name != ACTIVATION:
                notes.append(f"layer {k}'s activation {layer.activation.name} is exported as "
                             "Tanh (the float backend's reading)")
    graph = helper.make_graph(
        nodes, model.name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", g.input_size ** 2])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", g.output_size ** 2])],
        inits)
    proto = helper.make_model(graph, producer_name="veil",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = IR_VERSION
    norm = model.normalisation
    helper.set_model_props(proto, {META_SCALE: repr(norm.scale), META_OFFSET: repr(norm.offset),
                                   META_PREDICT: "residual" if model.residual else "clean"})
    onnx.checker.check_model(proto)
    atomic_write_bytes(Path(output), proto.SerializeToString())
    widths = " -> ".join(str(n) for n in [model.layers[0].n_in] +
                         [layer.n_out for layer in model.layers])
    return notes + [f"wrote {output}: model {model.name}, {widths}, Gemm + Tanh, float32 "
                    f"(input: the normalised {g.input_size}x{g.input_size} patch)"]

"""An ONNX graph read as an MLP: a chain from the one input through linear layers (Gemm, or
MatMul optionally followed by Add), Tanh between them, the last layer linear.

Anything else is refused in one line naming the node and its op. Weights must be constants
(initializers or Constant nodes); they come out in Veil's layout, w (n_out, n_in) and
b (n_out,), float64, with Gemm's alpha and beta folded in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from veil.models.onnx_support import OnnxError

SUPPORTED = "Veil imports Gemm, MatMul+Add and Tanh"
_FLOAT_TYPES = {1: "float", 10: "float16", 11: "double", 16: "bfloat16"}   # TensorProto codes


@dataclass
class OnnxLayer:
    w: np.ndarray                  # (n_out, n_in)
    b: np.ndarray | None           # (n_out,), None until a bias is seen
    nodes: list[str] = field(default_factory=list)
    tanh: bool = False


@dataclass(frozen=True)
class OnnxNetwork:
    layers: tuple[tuple[np.ndarray, np.ndarray, bool], ...]     # (w, b, tanh) per layer
    metadata: dict[str, str]

    @property
    def n_in(self) -> int:
        return self.layers[0][0].shape[1]

    @property
    def n_out(self) -> int:
        return self.layers[-1][0].shape[0]


def read_network(model, where: str) -> OnnxNetwork:
    """The MLP of an ONNX ModelProto; `where` (the file) starts every error message."""
    from onnx import numpy_helper
    graph = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            consts[node.output[0]] = _constant_value(node, where)
    inputs = [i for i in graph.input if i.name not in consts]
    if not inputs:
        raise OnnxError(f"{where}: the graph has no input")
    current = current_in = inputs[0].name
    features = _check_input(inputs[0], where)
    extra = {i.name for i in inputs[1:]}
    layers: list[OnnxLayer] = []
    for index, node in enumerate(graph.node):
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            continue
        label = f"node '{node.name}'" if node.name else f"node #{index}"
        label = f"{label} ({node.op_type})"
        second = [x for x in node.input if x in extra]
        if second:
            raise OnnxError(f"{where}: {label} reads a second graph input '{second[0]}': "
                            "Veil imports a network of one input, with constant weights")
        if node.domain not in ("", "ai.onnx") or node.op_type not in _STEPS:
            raise OnnxError(f"{where}: {label} is not supported: {SUPPORTED}")
        _check_reads(node, consts, current, f"{where}: {label}")
        _STEPS[node.op_type](node, consts, layers, f"{where}: {label}")
        layers[-1].nodes.append(label)
        current = node.output[0]
    _check_end(graph, current, layers, where)
    if features is not None and features != layers[0].w.shape[1]:
        raise OnnxError(f"{where}: input '{current_in}' has {features} features but "
                        f"{layers[0].nodes[0]} takes {layers[0].w.shape[1]}")
    declared = _features(graph.output[0])
    if declared is not None and declared != layers[-1].w.shape[0]:
        raise OnnxError(f"{where}: output '{current}' has {declared} features but "
                        f"{layers[-1].nodes[0]} gives {layers[-1].w.shape[0]}")
    return OnnxNetwork(tuple((la.w, la.b if la.b is not None else np.zeros(la.w.shape[0]),
                              la.tanh) for la in layers),
                       {p.key: p.value for p in model.metadata_props})


def _names(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names) or "only constants"


def _constant_value(node, where: str) -> np.ndarray:
    from onnx import helper, numpy_helper
    for attr in node.attribute:
        if attr.name == "value":
            return numpy_helper.to_array(attr.t)
        if attr.name in ("value_float", "value_floats"):
            return np.asarray(helper.get_attribute_value(attr), np.float64)
    raise OnnxError(f"{where}: Constant node '{node.name}' has no tensor or float value")


def _check_reads(node, consts, current: str, label: str) -> None:
    """The node reads the network's value once, as its first input, and constants else."""
    data = [x for x in node.input if x and x not in consts]
    if current not in data:
        raise OnnxError(f"{label} does not read the network's value '{current}' "
                        f"(it reads {_names(data)}): Veil imports a chain of layers")
    others = [x for x in data if x != current]
    if others:
        raise OnnxError(f"{label}: '{others[0]}' is not a constant (an initializer or a "
                        "Constant node): Veil imports fixed weights")
    if len(data) > 1 or (node.op_type != "Add" and node.input[0] != current):
        raise OnnxError(f"{label}: the network's value '{current}' must be its first and "
                        "only non-constant input (Veil imports x @ W, not W @ x)")


def _check_input(value, where: str) -> int | None:
    """The input's feature count, if its shape says."""
    t = value.type.tensor_type
    if t.elem_type not in _FLOAT_TYPES:
        raise OnnxError(f"{where}: input '{value.name}' is not a floating-point tensor")
    if t.HasField("shape") and len(t.shape.dim) != 2:
        raise OnnxError(f"{where}: input '{value.name}' has {len(t.shape.dim)} dimensions: "
                        "Veil imports a (batch, features) input")
    return _features(value)


def _features(value) -> int | None:
    """The last dimension of a (batch, features) value, if its shape gives it."""
    dims = value.type.tensor_type.shape.dim
    return dims[-1].dim_value if dims and dims[-1].HasField("dim_value") else None


def _weight(name: str, consts, label: str, what: str) -> np.ndarray:
    a = consts[name]
    if a.dtype.kind != "f":
        raise OnnxError(f"{label}: {what} '{name}' is {a.dtype}, not floating point")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise OnnxError(f"{label}: {what} '{name}' contains NaN or infinity")
    return a


def _attr(node, name: str, default):
    from onnx import helper
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _new_layer(w_in_out: np.ndarray, layers: list[OnnxLayer], label: str, name: str) -> None:
    if w_in_out.ndim != 2:
        raise OnnxError(f"{label}: weight '{name}' has shape {w_in_out.shape}, not a matrix")
    if layers and not layers[-1].tanh:
        raise OnnxError(f"{label}: two linear layers without a Tanh between them "
                        "(Veil's hidden layers each end in an activation)")
    if layers and layers[-1].w.shape[0] != w_in_out.shape[0]:
        raise OnnxError(f"{label}: weight '{name}' takes {w_in_out.shape[0]} features but the "
                        f"layer before gives {layers[-1].w.shape[0]}")
    layers.append(OnnxLayer(np.ascontiguousarray(w_in_out.T), None))


def _bias(c: np.ndarray, n_out: int, label: str, name: str) -> np.ndarray:
    if c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1) or c.size not in (1, n_out):
        raise OnnxError(f"{label}: bias '{name}' has shape {c.shape}, not ({n_out},)")
    return np.broadcast_to(c.reshape(-1), (n_out,)).copy()


def _gemm(node, consts, layers, label):
    """Y = alpha * A' B' + beta * C; A is the network's value, so transA must be 0."""
    if _attr(node, "transA", 0):
        raise OnnxError(f"{label}: transA=1 (a transposed input) is not supported")
    b_name = node.input[1]
    w = _weight(b_name, consts, label, "weight")
    w = w.T if _attr(node, "transB", 0) else w
    _new_layer(float(_attr(node, "alpha", 1.0)) * w, layers, label, b_name)
    if len(node.input) > 2 and node.input[2]:
        c = _weight(node.input[2], consts, label, "bias")
        layers[-1].b = float(_attr(node, "beta", 1.0)) * _bias(c, w.shape[1], label,
                                                               node.input[2])


def _matmul(node, consts, layers, label):
    _new_layer(_weight(node.input[1], consts, label, "weight"), layers, label, node.input[1])


def _add(node, consts, layers, label):
    if not layers or layers[-1].tanh or layers[-1].b is not None:
        raise OnnxError(f"{label} is not supported here: an Add must follow a MatMul "
                        "(or a Gemm without bias) as its bias")
    name = next(x for x in node.input if x in consts)
    layers[-1].b = _bias(_weight(name, consts, label, "bias"), layers[-1].w.shape[0], label,
                         name)


def _tanh(node, consts, layers, label):
    if not layers or layers[-1].tanh:
        raise OnnxError(f"{label} is not supported here: a Tanh must follow a linear layer")
    layers[-1].tanh = True


_STEPS = {"Gemm": _gemm, "MatMul": _matmul, "Add": _add, "Tanh": _tanh}


def _check_end(graph, current: str, layers: list[OnnxLayer], where: str) -> None:
    if not layers:
        raise OnnxError(f"{where}: the graph has no linear layer ({SUPPORTED})")
    outputs = [o.name for o in graph.output]
    if outputs != [current]:
        raise OnnxError(f"{where}: the graph's outputs are {_names(outputs)}; Veil imports "
                        f"one output, the last node's '{current}'")
    if layers[-1].tanh:
        raise OnnxError(f"{where}: {layers[-1].nodes[-1]} ends the network: Veil's last layer "
                        "is linear (it outputs pixels)")

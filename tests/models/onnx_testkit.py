"""ONNX MLPs built here with onnx.helper, and two evaluations of them that owe nothing to
Veil: onnxruntime, and a numpy reading of the same graph (Gemm with its attributes, MatMul,
Add, Tanh) that can also put tanh* (from the seed paper's constants) in place of Tanh."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..compiler.tanh_star_reference import PAPER

SIZES = (25, 16, 9, 9)          # 5x5 -> 16 tanh -> 9 tanh -> 3x3


def weights(seed: int = 0, sizes=SIZES) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W (n_in, n_out), b (n_out,)) per layer, float32, Glorot-like scale."""
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        out.append((rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32),
                    rng.uniform(-0.2, 0.2, n_out).astype(np.float32)))
    return out


def make_model(nodes, inits, n_in, n_out, inputs=None, props=None) -> onnx.ModelProto:
    ins = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])]
    graph = helper.make_graph(nodes, "mlp", ins,
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                             ["N", n_out])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    if props:
        helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    return model


def gemm_mlp(params=None, odd_gemm: bool = True, last_op: str | None = None,
             act: str = "Tanh") -> onnx.ModelProto:
    """Gemm layers with Tanh between. With `odd_gemm` the second layer stores B untransposed
    with alpha = 0.5 and beta = 2 (and B, C scaled to compensate), so the import must fold
    the attributes; the others use transB = 1 as PyTorch exports nn.Linear. `last_op` adds
    one more node of that op after the network, `act` is the activation's op (to test
    refusals)."""
    params = params or weights()
    nodes, inits, value = [], [], "x"
    for k, (w, b) in enumerate(params, start=1):
        out = f"h{k}"
        if odd_gemm and k == 2:
            inits += [numpy_helper.from_array(w * 2, f"W{k}"),
                      numpy_helper.from_array(b / 2, f"B{k}")]
            nodes.append(helper.make_node("Gemm", [value, f"W{k}", f"B{k}"], [out],
                                          name=f"gemm_{k}", alpha=0.5, beta=2.0))
        else:
            inits += [numpy_helper.from_array(np.ascontiguousarray(w.T), f"W{k}"),
                      numpy_helper.from_array(b, f"B{k}")]
            nodes.append(helper.make_node("Gemm", [value, f"W{k}", f"B{k}"], [out],
                                          name=f"gemm_{k}", transB=1))
        value = out
        if k < len(params):
            nodes.append(helper.make_node(act, [value], [f"t{k}"], name=f"act_{k}"))
            value = f"t{k}"
    if last_op:
        nodes.append(helper.make_node(last_op, [value], ["extra"], name="extra_1"))
        value = "extra"
    nodes[-1].output[0] = "y"
    return make_model(nodes, inits, params[0][0].shape[0], params[-1][0].shape[1])


def matmul_mlp(params=None) -> onnx.ModelProto:
    """MatMul then Add (bias on the left of the Add, as some exporters write it), Tanh; the
    biases are Constant nodes, the weights initializers."""
    params = params or weights()
    nodes, inits, value = [], [], "x"
    for k, (w, b) in enumerate(params, start=1):
        inits.append(numpy_helper.from_array(w, f"W{k}"))
        nodes += [helper.make_node("Constant", [], [f"B{k}"], name=f"bias_{k}",
                                   value=numpy_helper.from_array(b)),
                  helper.make_node("MatMul", [value, f"W{k}"], [f"m{k}"], name=f"matmul_{k}"),
                  helper.make_node("Add", [f"B{k}", f"m{k}"], [f"a{k}"], name=f"add_{k}")]
        value = f"a{k}"
        if k < len(params):
            nodes.append(helper.make_node("Tanh", [value], [f"t{k}"], name=f"tanh_{k}"))
            value = f"t{k}"
    nodes[-1].output[0] = "y"
    return make_model(nodes, inits, params[0][0].shape[0], params[-1][0].shape[1])


def tanh_star(x: np.ndarray) -> np.ndarray:
    """tanh* in float64 from the seed paper's segments: t(-x) = -t(x) for x > 0, 1 beyond
    the last bound, t(0) = +0.016 (the first segment's constant: tanh* jumps at 0)."""
    a = np.abs(x)
    y = np.ones_like(a)
    for bound, m, c, d in reversed(PAPER):
        y = np.where(a <= bound, m * a * a + c * a + d, y)
    return np.where(x < 0, -y, y)


def evaluate_numpy(model: onnx.ModelProto, x: np.ndarray, act=np.tanh) -> np.ndarray:
    """The graph in float64, node by node, as the ONNX operator definitions say."""
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    values[model.graph.input[0].name] = np.asarray(x, np.float64)
    for node in model.graph.node:
        ins = [values[i] for i in node.input]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Gemm":
            a, b = ins[0], ins[1]
            a = a.T if attrs.get("transA", 0) else a
            b = b.T if attrs.get("transB", 0) else b
            y = attrs.get("alpha", 1.0) * (a @ b)
            out = y + attrs.get("beta", 1.0) * ins[2] if len(ins) > 2 else y
        elif node.op_type == "MatMul":
            out = ins[0] @ ins[1]
        elif node.op_type == "Add":
            out = ins[0] + ins[1]
        elif node.op_type == "Tanh":
            out = act(ins[0])
        else:
            raise AssertionError(f"the test's evaluator has no {node.op_type}")
        values[node.output[0]] = out
    return values[model.graph.output[0].name]


def evaluate_runtime(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """onnxruntime, in float32 as the model says."""
    import onnxruntime
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {model.graph.input[0].name: np.asarray(x, np.float32)})[0]


def save(model: onnx.ModelProto, path) -> None:
    onnx.save(model, str(path))

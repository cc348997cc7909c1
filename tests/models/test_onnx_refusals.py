"""What `veil import` refuses: each in one line naming the node and its op (or the file, or
the option), and with no file left behind; and the spec and weights are written both or
neither."""
import os

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from veil.models.onnx_import import import_onnx
from veil.util.errors import VeilError

from . import onnx_testkit as kit

W = kit.weights()


def _gemm(k: int, value: str, out: str, w: np.ndarray, b: np.ndarray, **attrs):
    inits = [numpy_helper.from_array(np.ascontiguousarray(w.T), f"W{k}"),
             numpy_helper.from_array(b, f"B{k}")]
    return helper.make_node("Gemm", [value, f"W{k}", f"B{k}"], [out], name=f"gemm_{k}",
                            transB=1, **attrs), inits


def _two_layers(second_w=None, second_attrs=None, middle="Tanh"):
    """25 -> 16 tanh -> 9 (3x3), the second layer's weight and attributes replaceable."""
    g1, i1 = _gemm(1, "x", "h1", W[0][0], W[0][1])
    t = helper.make_node(middle, ["h1"], ["t1"], name="act_1")
    w2 = W[1][0] if second_w is None else second_w
    g2, i2 = _gemm(2, "t1", "y", w2, np.zeros(w2.shape[1], np.float32),
                   **(second_attrs or {}))
    return kit.make_model([g1, t, g2], i1 + i2, 25, w2.shape[1])


def _second_input():
    g1, i1 = _gemm(1, "x", "h1", W[0][0], W[0][1])
    add = helper.make_node("Add", ["h1", "z"], ["y"], name="add_z")
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", f])
              for n, f in (("x", 25), ("z", 16))]
    return kit.make_model([g1, add], i1, 25, 16, inputs=inputs)


def _weight_as_input():
    node = helper.make_node("Gemm", ["x", "W1"], ["y"], name="gemm_1", transB=1)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 25]),
              helper.make_tensor_value_info("W1", TensorProto.FLOAT, [9, 25])]
    return kit.make_model([node], [], 25, 9, inputs=inputs)


def _conv():
    kernel = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "K")
    node = helper.make_node("Conv", ["x", "K"], ["y"], name="conv_1")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 25])
    return kit.make_model([node], [kernel], 25, 9, inputs=[x])


def _declared(which: str, features: int):
    model = kit.gemm_mlp()
    value = getattr(model.graph, which)[0]
    value.type.tensor_type.shape.dim[1].dim_value = features
    return model


CASES = {
    "relu": (lambda: kit.gemm_mlp(act="Relu"), (5, 3),
             "net.onnx: node 'act_1' (Relu) is not supported: Veil imports Gemm, MatMul+Add "
             "and Tanh"),
    "sigmoid at the end": (lambda: kit.gemm_mlp(last_op="Sigmoid"), (5, 3),
                           "net.onnx: node 'extra_1' (Sigmoid) is not supported: Veil imports "
                           "Gemm, MatMul+Add and Tanh"),
    "conv": (_conv, (5, 3), "net.onnx: node 'conv_1' (Conv) is not supported: Veil imports "
                            "Gemm, MatMul+Add and Tanh"),
    "tanh at the end": (lambda: kit.gemm_mlp(last_op="Tanh"), (5, 3),
                        "net.onnx: node 'extra_1' (Tanh) ends the network: Veil's last layer "
                        "is linear (it outputs pixels)"),
    "second input": (_second_input, (5, 3),
                     "net.onnx: node 'add_z' (Add) reads a second graph input 'z': Veil "
                     "imports a network of one input, with constant weights"),
    "non-constant weight": (_weight_as_input, (5, 3),
                            "net.onnx: node 'gemm_1' (Gemm) reads a second graph input 'W1': "
                            "Veil imports a network of one input, with constant weights"),
    "shape mismatch": (lambda: _two_layers(second_w=W[1][0][:15]), (5, 3),
                       "net.onnx: node 'gemm_2' (Gemm): weight 'W2' takes 15 features but "
                       "the layer before gives 16"),
    "declared input": (lambda: _declared("input", 26), (5, 3),
                       "net.onnx: input 'x' has 26 features but node 'gemm_1' (Gemm) takes 25"),
    "declared output": (lambda: _declared("output", 8), (5, 3),
                        "net.onnx: output 'y' has 8 features but node 'gemm_3' (Gemm) gives 9"),
    "transA": (lambda: _two_layers(second_attrs={"transA": 1}), (5, 3),
               "net.onnx: node 'gemm_2' (Gemm): transA=1 (a transposed input) is not supported"),
    "no activation between": (lambda: _two_layers(middle="Identity"), (5, 3),
                              "net.onnx: node 'act_1' (Identity) is not supported: Veil "
                              "imports Gemm, MatMul+Add and Tanh"),
    "input side": (kit.gemm_mlp, (4, 2),
                   "net.onnx: the network takes 25 features but --patch 4 2 needs 4x4 = 16"),
    "output side": (kit.gemm_mlp, (5, 1),
                    "net.onnx: the network gives 9 features but --patch 5 1 needs 1x1 = 1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_in_one_line_and_nothing_written(case, tmp_path):
    build, (side_in, side_out), message = CASES[case]
    kit.save(build(), tmp_path / "net.onnx")
    with pytest.raises(VeilError) as exc:
        import_onnx(tmp_path / "net.onnx", tmp_path / "out.veil", side_in, side_out)
    assert str(exc.value) == message
    assert sorted(os.listdir(tmp_path)) == ["net.onnx"]


def test_two_linear_layers_in_a_row(tmp_path):
    g1, i1 = _gemm(1, "x", "h1", W[0][0], W[0][1])
    g2, i2 = _gemm(2, "h1", "y", W[1][0], W[1][1])
    kit.save(kit.make_model([g1, g2], i1 + i2, 25, 9), tmp_path / "net.onnx")
    with pytest.raises(VeilError, match=r"^net.onnx: node 'gemm_2' \(Gemm\): two linear layers "
                                        r"without a Tanh between them"):
        import_onnx(tmp_path / "net.onnx", tmp_path / "out.veil", 5, 3)
    assert sorted(os.listdir(tmp_path)) == ["net.onnx"]


@pytest.mark.parametrize("content,message", [
    (None, "no such file"),
    (b"", "net.onnx: not a valid ONNX model ("),
    (b"model tiny { this is a spec, not ONNX }\n", "net.onnx: not a valid ONNX model ("),
])
def test_not_an_onnx_file(tmp_path, content, message):
    if content is not None:
        (tmp_path / "net.onnx").write_bytes(content)
    with pytest.raises(VeilError) as exc:
        import_onnx(tmp_path / "net.onnx", tmp_path / "out.veil", 5, 3)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "out.veil").exists() and not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize("args,message", [
    (("out.veil", 5, 2, None), "--patch 5 2: the output side must be at most the input side"),
    (("out.veil", 5, 3, 4), "--stride 4: must be between 1 and the output side 3"),
    (("out.txt", 5, 3, None), "name a .veil file"),
])
def test_bad_options(tmp_path, args, message):
    kit.save(kit.gemm_mlp(), tmp_path / "net.onnx")
    name, side_in, side_out, stride = args
    with pytest.raises(VeilError, match=message.replace("(", r"\(")):
        import_onnx(tmp_path / "net.onnx", tmp_path / name, side_in, side_out, stride)
    assert sorted(os.listdir(tmp_path)) == ["net.onnx"]


def _failing_second_move(monkeypatch):
    """os.replace fails once: when the new spec is moved into place, after the weights were
    (an old spec has been moved aside by then)."""
    import veil.util.atomic as atomic
    real, failed = os.replace, []

    def replace(src, dst):
        if str(dst).endswith(".veil") and not failed:
            failed.append(dst)
            raise OSError("disk full")
        real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", replace)


def test_spec_and_weights_both_or_neither(tmp_path, monkeypatch):
    kit.save(kit.gemm_mlp(), tmp_path / "net.onnx")
    _failing_second_move(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        import_onnx(tmp_path / "net.onnx", tmp_path / "out.veil", 5, 3)
    assert sorted(os.listdir(tmp_path)) == ["net.onnx"]


def test_a_failed_import_keeps_the_previous_spec_and_weights(tmp_path, monkeypatch):
    kit.save(kit.gemm_mlp(), tmp_path / "net.onnx")
    (tmp_path / "out.veil").write_text("old spec")
    (tmp_path / "out.npz").write_bytes(b"old weights")
    _failing_second_move(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        import_onnx(tmp_path / "net.onnx", tmp_path / "out.veil", 5, 3)
    assert (tmp_path / "out.veil").read_text() == "old spec"
    assert (tmp_path / "out.npz").read_bytes() == b"old weights"
    assert sorted(os.listdir(tmp_path)) == ["net.onnx", "out.npz", "out.veil"]

"""`veil export` then `veil import`: the same spec and weights; and the compact model's
hand-chosen formats (docs/quality.md) come back from its weights by the import's rule."""
import numpy as np
import onnx

from veil.models.catalog import load_model
from veil.models.onnx_export import export_onnx
from veil.models.onnx_import import import_onnx

from . import onnx_testkit as kit


def _same_npz(a, b) -> None:
    with np.load(a) as got, np.load(b) as want:
        assert sorted(got.files) == sorted(want.files)
        for key in want.files:
            assert got[key].dtype == want[key].dtype and np.array_equal(got[key], want[key]), key


def test_export_then_import_gives_the_same_spec_and_weights(tmp_path):
    first, exported, second = (tmp_path / d for d in ("first", "exported", "second"))
    for d in (first, exported, second):
        d.mkdir()
    original = kit.gemm_mlp()
    kit.save(original, first / "net.onnx")
    import_onnx(first / "net.onnx", first / "net.veil", 5, 3)
    export_onnx(first / "net.veil", exported / "net.onnx")
    import_onnx(exported / "net.onnx", second / "net.veil", 5, 3)
    assert (second / "net.veil").read_text() == (first / "net.veil").read_text()
    _same_npz(second / "net.npz", first / "net.npz")
    # The exported model computes what the original does (onnxruntime on both).
    model = onnx.load(str(exported / "net.onnx"))
    x = np.random.default_rng(1).uniform(-2.5, 2.5, (50, 25))
    assert np.abs(kit.evaluate_runtime(model, x) - kit.evaluate_runtime(original, x)).max() < 1e-5
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Tanh", "Gemm", "Tanh", "Gemm"]


def test_compact_comes_back_with_its_own_formats(tmp_path):
    export_onnx("compact", tmp_path / "compact.onnx")
    import_onnx(tmp_path / "compact.onnx", tmp_path / "compact.veil", 16, 8)
    got, want = load_model(tmp_path / "compact.veil"), load_model("compact")
    for attr in ("input_format", "activation_format", "weight_format", "bias_format",
                 "coeff_frac", "geometry", "normalisation", "residual"):
        assert getattr(got, attr) == getattr(want, attr), attr
    for a, b in zip(got.layers, want.layers, strict=True):
        assert (a.activation.name if a.activation else None) == \
            (b.activation.name if b.activation else None)
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)
        assert np.array_equal(a.weights_float, b.weights_float.astype(np.float32))


def test_export_says_when_an_activation_becomes_tanh(tmp_path):
    spec = tmp_path / "odd.veil"
    spec.write_text("""
activation soft odd saturate 1 {
    |x| <= 2 : 0.5 * x
}
model odd {
    patch 3 -> 1
    normalise p -> p / 255
    input fix<12, 9>
    activation fix<10, 8>
    weight fix<12, 9>
    bias fix<20, 17>
    coefficient frac 9
    weights random seed 3
    dense 9 -> 4 soft
    dense 4 -> 1
}
""")
    lines = export_onnx(spec, tmp_path / "odd.onnx")
    assert lines[0] == "layer 1's activation soft is exported as Tanh (the float backend's reading)"
    assert lines[-1].startswith(f"wrote {tmp_path / 'odd.onnx'}: model odd, 9 -> 4 -> 1")

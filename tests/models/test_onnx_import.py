"""`veil import` of ONNX MLPs built here (5x5 -> 16 tanh -> 9 tanh -> 3x3), compiled, and run
against the ONNX graph evaluated without Veil (onnxruntime and the testkit's numpy reading).

Like with like: the `float` backend runs the real tanh, as the graph's Tanh does, so it must
equal the graph (within float32 rounding: onnxruntime computes in float32); `float-approx`
runs tanh*, so it must equal the graph with tanh* in place of Tanh; `plaintext` runs the
integer network and must stay within the fixed-point error bound derived below of
`float-approx`.
"""
import numpy as np
import pytest

from veil.backends.catalog import get_backend
from veil.models.catalog import compile_model
from veil.models.onnx_import import import_onnx

from ..compiler.tanh_star_reference import PAPER, tanh_star_int
from . import onnx_testkit as kit

PIXELS = np.random.default_rng(5).integers(0, 256, (400, 25)).astype(np.float64)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    model = kit.gemm_mlp()
    kit.save(model, folder / "net.onnx")
    report = import_onnx(folder / "net.onnx", folder / "net.veil", 5, 3)
    return model, compile_model(str(folder / "net.veil")), report, folder


def _network(program, backend: str) -> np.ndarray:
    """The network's output (normalised units) as the backend computes it from PIXELS."""
    norm = program.model.normalisation
    return norm.forward(get_backend(backend).run_pixels(program, PIXELS))


def test_float_backend_is_the_onnx_graph(imported):
    model, program, _, _ = imported
    x = program.model.normalisation.forward(PIXELS)
    ours = _network(program, "float")
    runtime = kit.evaluate_runtime(model, x)
    assert np.abs(ours - runtime).max() < 1e-5          # float32 inference vs float64
    assert np.abs(ours - kit.evaluate_numpy(model, x)).max() < 1e-9
    assert np.abs(runtime).max() > 0.1                  # not a network of zeros


def test_float_approx_backend_is_the_graph_with_tanh_star(imported):
    model, program, _, _ = imported
    x = program.model.normalisation.forward(PIXELS)
    want = kit.evaluate_numpy(model, x, act=kit.tanh_star)
    assert np.abs(_network(program, "float-approx") - want).max() < 1e-9
    # and tanh* is not tanh: the two backends differ by more than rounding
    assert np.abs(_network(program, "float") - want).max() > 1e-3


def _tanh_star_errors(f_a: int, f_c: int, acc_frac: int) -> tuple[float, float]:
    """(largest |integer tanh*(a) - tanh*(a)| over every magnitude a the integer tanh* can
    see, largest jump of tanh*: at 0, where it goes from -0.016 to 0.016, and at its segment
    bounds), from the seed paper's constants."""
    mags = np.arange(int(PAPER[-1][0] * 2 ** f_a) + 3)
    ints = [tanh_star_int(int(a) << (acc_frac - f_a), acc_frac, f_a, f_c) for a in mags]
    quant = float(np.abs(np.array(ints) / 2 ** f_a - kit.tanh_star(mags / 2 ** f_a)).max())
    segment = [lambda a, s=s: s[1] * a * a + s[2] * a + s[3] for s in PAPER] + [lambda a: 1.0]
    jumps = [2 * abs(segment[0](0.0))] + [abs(segment[k](b) - segment[k + 1](b))
                                          for k, (b, *_) in enumerate(PAPER)]
    return quant, max(jumps)


def fixed_point_bound(program) -> np.ndarray:
    """How far each output pixel of `plaintext` may be from `float-approx`, in grey levels,
    per patch of PIXELS: an error bound carried through the float network, neuron by neuron.

    A layer's input x^ (plaintext) is within e of x (float), its pre-activation z^ within d
    of z. The accumulator is exact, so z^ - z = (W^ - W) x^ + W (x^ - x) + (b^ - b), and
    rounding to nearest gives
        d <= |W| e + 2^-(f_w+1) sum|x^| + 2^-(f_b+1),   sum|x^| <= sum(|x| + e),
    with e_0 = 2^-(f_in+1) (pixels rounded into fix<12,9>, which holds [-2.5, 2.5]: none
    clipped). The integer tanh* reads |z^| rounded to its own precision (within
    r = 2^-(f_a+1) + 2^-acc_frac), is within `quant` of tanh* at that point, and tanh* has
    slope at most 1 inside a segment and jumps by at most `jump` at 0 or a bound, which a
    neuron can cross only if |z| lies within d + r of it:
        e <= quant + d + r + (jump if near a bound).
    The last layer's accumulator is the output, dequantised exactly: d / scale."""
    m = program.model
    x = m.normalisation.forward(PIXELS)
    e = np.full_like(x, 2.0 ** -(m.input_format.frac + 1))
    for layer in m.layers:
        w = layer.weights_float
        z = x @ w.T + layer.bias_float
        d = (e @ np.abs(w).T + 2.0 ** -(m.weight_format.frac + 1)
             * (np.abs(x) + e).sum(axis=1, keepdims=True) + 2.0 ** -(m.bias_format.frac + 1))
        if layer.activation is None:
            return d / abs(m.normalisation.scale)
        f_a = m.activation_format.frac
        quant, jump = _tanh_star_errors(f_a, m.coeff_frac, layer.acc_frac)
        r = 2.0 ** -(f_a + 1) + 2.0 ** -layer.acc_frac
        near = np.zeros(z.shape, bool)
        for bound in [0.0] + [b for b, *_ in PAPER]:
            near |= np.abs(np.abs(z) - bound) <= d + r
        e = quant + d + r + jump * near
        x = kit.tanh_star(z)
    raise AssertionError("no output layer")


def test_plaintext_within_the_fixed_point_bound(imported):
    _, program, _, _ = imported
    exact = get_backend("plaintext").run_pixels(program, PIXELS)
    approx = get_backend("float-approx").run_pixels(program, PIXELS)
    bound = fixed_point_bound(program)
    diff = np.abs(exact - approx)
    assert np.all(diff <= bound), (diff.max(), bound[diff > bound])
    assert diff.max() > 0.01                         # the integer network did run


def test_plaintext_is_the_integer_network_written_here(imported):
    """The bound above is a worst case (about 15 grey levels on this network, where 0.6 is
    seen); this pins plaintext exactly: the spec's formats applied by hand, integer matrix
    products, and the independent integer tanh* of tests/compiler/tanh_star_reference.py."""
    _, program, _, _ = imported
    m = program.model
    h = np.rint(m.normalisation.forward(PIXELS) * 2 ** m.input_format.frac).astype(np.int64)
    for layer in m.layers:
        w = np.rint(layer.weights_float * 2 ** m.weight_format.frac).astype(np.int64)
        b = np.rint(layer.bias_float * 2 ** m.bias_format.frac).astype(np.int64)
        acc = h @ w.T + (b << (layer.acc_frac - m.bias_format.frac))
        if layer.activation is None:
            break
        h = np.array([[tanh_star_int(int(v), layer.acc_frac, m.activation_format.frac,
                                     m.coeff_frac) for v in row] for row in acc], np.int64)
    got = get_backend("plaintext").run_fixed(program, program.quantise_input(PIXELS))
    assert np.array_equal(got, acc)


def test_formats_fit_the_weights_with_no_bit_to_spare(imported):
    """The weight format holds every weight, one integer bit fewer would not; its fraction
    is the fewest bits from compact's 10 up that leave every layer's largest weight at least
    9 significant bits; tanh* in [-1, 1] needs exactly one integer bit."""
    _, program, _, _ = imported
    m = program.model
    largest = [np.abs(layer.weights_float).max() for layer in m.layers]
    w_max = max(largest)
    f = m.weight_format
    assert f.frac >= 10 and min(largest) * 2 ** f.frac >= 2 ** 9
    assert f.frac == 10 or min(largest) * 2 ** (f.frac - 1) < 2 ** 9
    assert round(w_max * 2 ** f.frac) <= f.max_int
    assert round(w_max * 2 ** f.frac) > (f.max_int >> 1)
    assert (m.activation_format.total - m.activation_format.frac) == 2   # sign + 1
    assert m.bias_format.frac == f.frac + min(m.input_format.frac, m.activation_format.frac)
    assert m.geometry.stride == 3 and not m.residual        # stride OUT; no metadata: clean


def test_report_names_formats_per_layer(imported):
    *_, report, folder = imported
    text = "\n".join(report)
    assert "Tanh -> tanh_star" in text
    for k in (1, 2, 3):
        assert f"layer {k}:" in text
    assert "weight      fix<" in text and "activation  fix<10,8>" in text
    assert report[-1] == f"wrote {folder / 'net.veil'} and {folder / 'net.npz'}"


def test_matmul_add_gives_the_same_spec_and_weights(imported, tmp_path):
    model, _, _, folder = imported
    x = PIXELS[:20] / 255
    other = kit.matmul_mlp()
    assert np.abs(kit.evaluate_runtime(other, x) - kit.evaluate_runtime(model, x)).max() < 1e-5
    kit.save(other, tmp_path / "net.onnx")
    import_onnx(tmp_path / "net.onnx", tmp_path / "net.veil", 5, 3)
    assert (tmp_path / "net.veil").read_text() == (folder / "net.veil").read_text()
    with np.load(tmp_path / "net.npz") as got, np.load(folder / "net.npz") as want:
        assert sorted(got.files) == sorted(want.files) == ["b1", "b2", "b3", "w1", "w2", "w3"]
        for key in want.files:
            assert np.array_equal(got[key], want[key]), key


def test_stride_option(tmp_path):
    kit.save(kit.gemm_mlp(), tmp_path / "net.onnx")
    import_onnx(tmp_path / "net.onnx", tmp_path / "s1.veil", 5, 3, stride=1)
    assert "patch 5 -> 3 stride 1" in (tmp_path / "s1.veil").read_text()

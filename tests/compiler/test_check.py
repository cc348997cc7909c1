import numpy as np
import pytest

from veil.compiler.check import check, load_prelude
from veil.models.catalog import load_model, resolve_spec
from veil.compiler.errors import SpecError
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.model import Symmetry
from veil.compiler.parser import parse_text
from veil.compiler.weights import glorot_uniform
from veil.util.errors import UsageError

from .check_testkit import BASE, error, load, params, variant, with_npz


# --- accepted specs ---

def test_random_model(tmp_path):
    m = load(tmp_path, BASE)
    assert m.name == "m" and m.path == str(tmp_path / "s.veil")
    assert (m.geometry.input_size, m.geometry.output_size, m.geometry.stride) == (5, 1, 1)
    assert m.input_format == FixFormat(16, 12) and m.bias_format == FixFormat(32, 24)
    assert m.coeff_frac == 14 and m.weights_source == "random seed 3"
    l1, l2 = m.layers
    assert (l1.index, l1.n_in, l1.n_out, l1.activation.name) == (1, 25, 8, "tanh_star")
    assert (l2.index, l2.activation) == (2, None)
    assert l1.acc_bits == 16 + 16 + 5 + 1 and l2.acc_bits == 16 + 16 + 4 + 1
    assert l1.acc_frac == l2.acc_frac == 24
    assert m.output_format == FixFormat(37, 24)
    assert m.macs_per_patch() == 25 * 8 + 8
    assert (l1.pos.line, l1.pos.column) == (10, 5)
    assert l1.weights.dtype == np.int64 and l1.weights.shape == (8, 25)
    assert np.array_equal(l1.weights, np.rint(l1.weights_float * 4096))
    assert not l1.bias.any()


def test_npz_model_and_quantisation(tmp_path):
    arrays = params()
    arrays["w1"][0, 0] = 3 / 8192          # half-way: rounds to even (2)
    arrays["w1"][0, 1] = 7.9998             # rounds to 32767, the largest weight
    m = load(tmp_path, with_npz(tmp_path, arrays))
    assert m.weights_source == "file w.npz"
    l1, l2 = m.layers
    assert l1.weights[0, 0] == 2 and l1.weights[0, 1] == 32767
    assert np.array_equal(l2.bias, np.rint(arrays["b2"] * 2.0**24).astype(np.int64))
    assert np.array_equal(l2.weights_float, arrays["w2"]) and l2.bias_float.dtype == np.float64
    assert l2.in_format == FixFormat(16, 12)


def test_normalisation(tmp_path):
    n = load(tmp_path, BASE).normalisation
    assert n.scale == pytest.approx(1 / 51) and n.offset == pytest.approx(-2.5)
    p = np.arange(256.0)
    assert n.forward(0) == pytest.approx(-2.5) and n.forward(255) == pytest.approx(2.5)
    assert np.allclose(n.inverse(n.forward(p)), p)
    n2 = load(tmp_path, variant("(p / 255 - 0.5) / 0.2", "(p/255 - 0.5) * 0.2")).normalisation
    assert (n2.scale, n2.offset) == pytest.approx((0.2 / 255, -0.1))


def test_prelude_activation():
    tanh = load_prelude()["tanh_star"]
    assert tanh.symmetry is Symmetry.ODD and tanh.saturation == 1.0
    assert tanh.bounds == (1.52, 2.57)
    assert tanh.coeffs == ((0.016, 1.0, -0.2716), (0.4519, 0.42654, -0.0848))
    x = np.linspace(-4, 4, 101)
    a = np.abs(x)      # the seed paper's tanh*, written out
    y = np.where(a <= 1.52, -0.2716 * a**2 + a + 0.016,
                 np.where(a <= 2.57, -0.0848 * a**2 + 0.42654 * a + 0.4519, 1.0))
    assert np.allclose(tanh.float_activation()(x), np.where(x < 0, -y, y))


def test_spec_activation(tmp_path):
    text = """activation sq even saturate 4 {
        |x| <= 1 : x * x
        |x| <= 2 : (x - 1)^2 * 3 / 3 + 2 * x - 1
    }
    """ + variant("dense 25 -> 8 tanh_star", "dense 25 -> 8 sq")
    m = load(tmp_path, text)
    sq = m.layers[0].activation
    assert sq.coeffs == ((0.0, 0.0, 1.0), (0.0, 0.0, 1.0)) and sq.symmetry is Symmetry.EVEN
    assert set(m.activations) == {"tanh_star", "tanh4", "sq"}
    assert np.allclose(sq.float_activation()(np.array([-1.5, 3.0])), [2.25, 4.0])


def test_random_weights_reproducible():
    a = glorot_uniform([(400, 200), (200, 64)], seed=7)
    b = glorot_uniform([(400, 200), (200, 64)], seed=7)
    c = glorot_uniform([(400, 200), (200, 64)], seed=8)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    assert not np.array_equal(a[0][0], c[0][0])
    w, bias = a[0]
    assert w.shape == (200, 400) and w.dtype == np.float64 and not bias.any()
    limit = np.sqrt(6 / 600)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit


def test_resolve_spec(tmp_path):
    assert resolve_spec("tiny").name == "tiny.veil"
    (tmp_path / "x.veil").write_text(BASE)
    assert resolve_spec(tmp_path / "x.veil") == tmp_path / "x.veil"
    with pytest.raises(UsageError, match="no built-in model"):
        resolve_spec("no_such_model")


def test_builtin_tiny():
    m = load_model("tiny")
    assert [(l.n_in, l.n_out) for l in m.layers] == [(25, 8), (8, 8), (8, 1)]


def test_check_with_given_activations():
    with pytest.raises(SpecError, match="unknown activation 'tanh_star' \\(known: \\)"):
        check(parse_text(BASE), {})


# --- rejected specs: (old, new) edits of BASE, line, column, message ---

CASES = {
    "unknown activation": ("8 tanh_star", "8 relu", 10, 19,
                           "unknown activation 'relu' (known: tanh4, tanh_star)"),
    "first layer size": ("dense 25 ->", "dense 24 ->", 10, 5,
                         "layer 1 takes 24 inputs but the input patch has 5x5 = 25 pixels"),
    "chain": ("dense 8 -> 1", "dense 8 -> 8 tanh_star\n    dense 7 -> 1", 12, 5,
              "layer 3 takes 7 inputs but layer 2 gives 8 outputs"),
    "last layer size": ("dense 8 -> 1", "dense 8 -> 4", 11, 5,
                        "the last layer gives 4 outputs but the output patch has 1x1 = 1 pixels"),
    "activation on last layer": ("dense 8 -> 1", "dense 8 -> 1 tanh_star", 11, 18,
                                 "the last layer must not have an activation"),
    "hidden without activation": ("8 tanh_star", "8", 10, 5, "layer 1 needs an activation"),
    "non-integer size": ("dense 25 ->", "dense 25.0 ->", 10, 11,
                         "layer input size must be an integer, got 25.0"),
    "zero size": ("dense 8 -> 1", "dense 8 -> 0", 11, 16,
                  "layer output size must be at least 1, got 0"),
    "output larger": ("patch 5 -> 1 stride 1", "patch 5 -> 7", 2, 16,
                      "output side 7 is larger than input side 5"),
    "parity": ("patch 5 -> 1 stride 1", "patch 5 -> 2", 2, 16,
               "input side 5 and output side 2 must have the same parity"),
    "stride zero": ("stride 1", "stride 0", 2, 25, "stride must be between 1 and 1, got 0"),
    "stride too big": ("stride 1", "stride 2", 2, 25, "stride must be between 1 and 1, got 2"),
    "normalise non-affine": ("(p / 255 - 0.5)", "(p * p - 0.5)", 3, 23,
                             "the normalisation must have degree at most 1; this is of degree 2"),
    "normalise constant": ("(p / 255 - 0.5)", "(255 - 0.5)", 3, 21,
                           "the normalisation does not depend on 'p'"),
    "normalise cancels": ("(p / 255 - 0.5)", "(p - p)", 3, 21,
                          "the normalisation does not depend on 'p'"),
    "normalise unknown variable": ("(p / 255", "(q / 255", 3, 21,
                                   "unknown variable 'q' in the normalisation"),
    "normalise divides by p": ("/ 0.2", "/ p", 3, 36,
                               "'/' needs a constant right operand in the normalisation"),
    "normalise divides by zero": ("/ 0.2", "/ (1 - 1)", 3, 36, "division by zero"),
    "format total too big": ("input fix<16, 12>", "input fix<63, 12>", 4, 5,
                             "bad input format fix<63,12>: total bits must be between 1 and 62"),
    "format frac too big": ("weight fix<16, 12>", "weight fix<16, 16>", 6, 5,
                            "bad weight format fix<16,16>: fractional bits must be between 0 and"),
    "format zero bits": ("activation fix<16, 12>", "activation fix<0, 0>", 5, 5,
                         "bad activation format fix<0,0>: total bits must be between 1 and 62"),
    "format not integer": ("input fix<16, 12>", "input fix<16, 1.5>", 4, 19,
                           "fractional bits must be an integer, got 1.5"),
    "bias finer than accumulator": ("bias fix<32, 24>", "bias fix<40, 25>", 7, 5,
                                    "bias has 25 fractional bits, more than layer 1's "
                                    "accumulator (24 = weight 12 + input 12)"),
    "accumulator too wide": ("weight fix<16, 12>", "weight fix<50, 12>", 10, 5,
                             "layer 1 needs a 72-bit accumulator, more than 62"),
    "coefficient frac": ("frac 14", "frac 70", 8, 22,
                         "coefficient frac must be between 0 and 61, got 70"),
    "seed": ("seed 3", "seed 3.5", 9, 25, "seed must be an integer, got 3.5"),
    "missing weights file": ("weights random seed 3", 'weights "nope.npz"', 9, 5,
                             "weights file not found: "),
    "missing entries": ("    bias fix<32, 24>\n", "", 1, 1,
                        "model 'm' is missing 'bias' format"),
    "missing everything": (BASE[10:-2], "", 1, 1,
                           "model 'm' is missing 'patch', 'normalise', 'input' format, "
                           "'activation' format, 'weight' format, 'bias' format, "
                           "'coefficient frac', 'weights', a 'dense' layer"),
    "duplicate entry": ("    coefficient frac 14\n", "    coefficient frac 14\n    patch 5 -> 1\n",
                        9, 5, "duplicate 'patch' entry (first at line 2)"),
    "duplicate weights": ("weights random seed 3", "weights random seed 3 weights \"a.npz\"", 9, 27,
                          "duplicate 'weights' entry (first at line 9)"),
    "duplicate format": ("    bias fix<32, 24>\n", "    bias fix<32, 24>\n    bias fix<32, 20>\n",
                         8, 5, "duplicate 'bias' format entry (first at line 7)"),
    "no model": (BASE, "# nothing\n", 1, 1, "the spec defines no model"),
    "two models": ("}\n", "}\nmodel n { }\n", 13, 1, "a spec defines exactly one model ('m' came first)"),
    "syntax": ("patch 5 -> 1", "patch 5 1", 2, 13, "expected '->' after input size, found '1'"),
}


@pytest.mark.parametrize("old,new,line,col,message", CASES.values(), ids=CASES.keys())
def test_spec_errors(tmp_path, old, new, line, col, message):
    e = error(tmp_path, variant(old, new))
    assert (e.path, e.line, e.column) == (str(tmp_path / "s.veil"), line, col)
    assert message in e.message


def test_missing_weights_file_shows_path(tmp_path):
    e = error(tmp_path, variant("weights random seed 3", 'weights "nope.npz"'))
    assert e.message == f"weights file not found: {tmp_path / 'nope.npz'}"


ACTIVATION = """\
activation a odd saturate 1 {
    |x| <= 1 : x
    |x| <= 2 : 1
}
"""

ACTIVATION_CASES = {
    "duplicate of prelude": ("activation a", "activation tanh_star", 1, 12,
                             "activation 'tanh_star' is already defined (at "),
    "keyword name": ("activation a", "activation dense", 1, 12,
                     "'dense' is a keyword, not a usable activation name"),
    "bounds not increasing": ("<= 2", "<= 1", 3, 12,
                              "activation bounds must be strictly increasing: 1 after 1"),
    "bound not positive": ("<= 1 :", "<= -1 :", 2, 12,
                           "activation bounds must be positive, got -1"),
    "bound zero": ("<= 1 :", "<= 0 :", 2, 12, "activation bounds must be positive, got 0"),
    "wrong variable": (": x\n", ": y\n", 2, 16,
                       "unknown variable 'y' in an activation polynomial (the variable is 'x')"),
    "fractional exponent": (": x\n", ": x^2.5\n", 2, 17,
                            "exponent must be an integer from 0 to 16, got 2.5"),
    "variable exponent": (": x\n", ": 2^x\n", 2, 17, "'^' needs a constant right operand"),
    "degree too high": (": x\n", ": x^8 * x^9\n", 2, 20,
                        "an activation polynomial must have degree at most 16; this is of degree 17"),
    "infinite": (": x\n", ": 1e999 * x\n", 2, 16, "has a coefficient that is not finite"),
}


@pytest.mark.parametrize("old,new,line,col,message", ACTIVATION_CASES.values(),
                         ids=ACTIVATION_CASES.keys())
def test_activation_errors(tmp_path, old, new, line, col, message):
    e = error(tmp_path, variant(old, new, ACTIVATION) + BASE)
    assert (e.line, e.column) == (line, col)
    assert message in e.message


def test_duplicate_activation_in_spec(tmp_path):
    e = error(tmp_path, ACTIVATION + ACTIVATION + BASE)
    assert (e.line, e.column) == (5, 12)
    assert e.message == f"activation 'a' is already defined (at {tmp_path / 's.veil'}:1:1)"

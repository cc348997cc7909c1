import pytest

from veil.compiler import ast
from veil.compiler.check import load_prelude
from veil.compiler.errors import SpecError
from veil.compiler.parser import parse_file, parse_prelude, parse_text

SAMPLE = """\
# a sample spec
activation cube even saturate -0.5 {
    |x| <= 0.5 : x^3 - 2 * x   # comment
}
model sample {
    patch 20 -> 8
    normalise p -> (p / 255 - 0.5) / 0.2
    input fix<16, 12>
    weights "w.npz"
    dense 400 -> 64 cube
}
"""


def test_prelude_defines_tanh_star_and_tanh4():
    prelude = parse_prelude()
    assert prelude.models == ()
    tanh, tanh4 = prelude.activations
    assert (tanh.name, tanh.symmetry, tanh.saturation.value) == ("tanh_star", "odd", 1.0)
    assert [s.bound.value for s in tanh.segments] == [1.52, 2.57]
    assert (tanh4.name, tanh4.symmetry, tanh4.saturation.value) == ("tanh4", "odd", 1.0)
    assert [s.bound.value for s in tanh4.segments] == [0.7, 1.4, 2.2, 3.2]
    assert list(load_prelude()) == ["tanh_star", "tanh4"]


def test_sample_spec(tmp_path):
    path = tmp_path / "sample.veil"
    path.write_text(SAMPLE)
    spec = parse_file(path)
    assert spec.path == str(path)
    (act,) = spec.activations
    assert (act.name, act.symmetry, act.saturation.value) == ("cube", "even", -0.5)
    assert (act.pos.line, act.pos.column, act.name_pos.column) == (2, 1, 12)
    (seg,) = act.segments
    assert isinstance(seg.poly, ast.BinOp) and seg.poly.op == "-"
    (model,) = spec.models
    assert model.name == "sample"
    patch, norm, fmt, weights, dense = model.entries
    assert (patch.input_size.value, patch.output_size.value, patch.stride) == (20, 8, None)
    assert (patch.pos.line, patch.pos.column) == (6, 5)
    assert norm.var == "p" and norm.expr.op == "/"
    assert (fmt.kind, fmt.total.value, fmt.frac.value) == ("input", 16, 12)
    assert weights == ast.WeightsFile("w.npz", weights.pos)
    assert (dense.n_in.value, dense.n_out.value, dense.activation) == (400, 64, "cube")
    assert (dense.activation_pos.line, dense.activation_pos.column) == (10, 21)


def test_precedence_and_unary_minus():
    spec = parse_text("model m { normalise p -> -p ^ 2 * 3 + 1 }")
    e = spec.models[0].entries[0].expr           # ((-(p^2)) * 3) + 1
    assert e.op == "+" and e.left.op == "*"
    assert isinstance(e.left.left, ast.Neg) and e.left.left.operand.op == "^"


def test_numbers():
    spec = parse_text("model m { normalise p -> 2.5e-3 * p + .5 + 1. }")
    e = spec.models[0].entries[0].expr
    assert e.right.value == 1.0 and e.left.right.value == 0.5 and e.left.left.left.value == 2.5e-3


@pytest.mark.parametrize("text,line,col,message", [
    ("model m {\n  patch 20 8\n}", 2, 12, "expected '->' after input size, found '8'"),
    ("model m {\n  patch 20 -> 8 stride x\n}", 2, 24, "expected a number after 'stride', found 'x'"),
    ("model m {\n  input fix<16 12>\n}", 2, 16, "expected ',' after total bits, found '12'"),
    ("model m {\n  normalise p -> p $ 2\n}", 2, 20, "found '$'"),
    ("model m {\n  dense 4 -> 4 relu relu\n}", 2, 21, "after activation name, found 'relu'"),
    ("model m {\n  weights random 3\n}", 2, 18, "expected 'seed' after 'random', found '3'"),
    ("model m {\n  dense 4 -> 4\n", 3, 1, "expected a model entry, '}' or a name after output "
                                       "size, found end of file"),
    ("modle m {}", 1, 1, "unexpected 'modle'; expected 'activation', 'model' or end of file"),
    ("activation t odd saturate 1 {\n  |x| <= 1 : 2 x\n}", 2, 16, "found 'x'"),
    ("activation t saturate 1 { |x| <= 1 : x }", 1, 14,
     "expected 'even' or 'odd' after activation name, found 'saturate'"),
    ("model 3 { }", 1, 7, "expected a name after 'model', found '3'"),
])
def test_syntax_errors(text, line, col, message):
    with pytest.raises(SpecError) as info:
        parse_text(text, "s.veil")
    e = info.value
    assert (e.path, e.line, e.column) == ("s.veil", line, col)
    assert message in e.message
    assert str(e) == f"s.veil:{line}:{col}: {e.message}"

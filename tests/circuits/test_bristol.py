"""Bristol Fashion export/import.  The exported text is checked with an independent
evaluator written here (parse, run the gates line by line on Python ints)."""
import numpy as np
import pytest
from .circuit_testkit import (build, naive_eval, random_circuit, random_inputs, slice_bits,
                             unslice, wrap)

from veil.circuits import adders, multiply
from veil.circuits.bristol import from_bristol, to_bristol
from veil.circuits.builder import Builder
from veil.circuits.circuit import CircuitError


def bristol_eval(text: str, inputs: list[list[int]]) -> list[list[int]]:
    """Run Bristol Fashion text: one list of instance values per input bus (LSB on the
    bus's lowest wire); returns one list per output bus, read from the last wires.
    Bit-parallel: a wire holds a Python int whose bit t belongs to instance t."""
    lines = text.splitlines()
    n_gates, n_wires = map(int, lines[0].split())
    in_w = [int(t) for t in lines[1].split()[1:]]
    out_w = [int(t) for t in lines[2].split()[1:]]
    assert lines[3] == "" and len(lines) == 4 + n_gates
    n = len(inputs[0])
    full = (1 << n) - 1
    wires: list[int | None] = [None] * n_wires
    pos = 0
    for values, w in zip(inputs, in_w, strict=True):
        for i in range(w):
            wires[pos + i] = slice_bits(values, i)
        pos += w
    for line in lines[4:]:
        t = line.split()
        n_in, n_out, kind = int(t[0]), int(t[1]), t[-1]
        ins, out = [int(v) for v in t[2:2 + n_in]], int(t[2 + n_in])
        assert n_out == 1 and len(t) == 2 + n_in + n_out + 1
        if kind == "EQ":
            wires[out] = full * ins[0]
            continue
        a = [wires[i] for i in ins]
        assert None not in a, f"{line!r} reads an unset wire"
        wires[out] = {"XOR": lambda: a[0] ^ a[1], "AND": lambda: a[0] & a[1],
                      "INV": lambda: a[0] ^ full, "EQW": lambda: a[0]}[kind]()
    res, pos = [], n_wires - sum(out_w)
    for w in out_w:
        res.append(unslice(wires[pos:pos + w], n))
        pos += w
    return res


@pytest.mark.parametrize("w", [1, 4, 8])
def test_exported_adder_and_multiplier(w):
    c = build(lambda b, x, y: adders.add_with_carry(b, x, y), w, w)
    m = build(lambda b, x, y: multiply.mul(b, x, y, signed=True), w, w)
    sq = build(lambda b, x, y: multiply.square(b, x), w, w)
    xs, ys = [list(v) for v in zip(*[(x, y) for x in range(1 << w) for y in range(1 << w)])]
    assert bristol_eval(to_bristol(c), [xs, ys]) == [[x + y for x, y in zip(xs, ys)]]
    want = [wrap(wrap(x, w, True) * wrap(y, w, True), 2 * w, False) for x, y in zip(xs, ys)]
    assert bristol_eval(to_bristol(m), [xs, ys]) == [want]
    assert bristol_eval(to_bristol(sq), [xs, ys]) == [[x * x for x in xs]]


def test_header_and_wire_layout():
    b = Builder()
    x, y = b.input("x", 3), b.input("y", 2)
    b.output("s", adders.add(b, x, y))        # 3 bits
    b.output("k", [y[1], b.const(1), y[1], b.const(0)])  # input, constants, a repeat
    text = to_bristol(b.build())
    lines = text.splitlines()
    n_gates, n_wires = map(int, lines[0].split())
    assert lines[1] == "2 3 2" and lines[2] == "2 3 4" and lines[3] == ""
    assert n_gates == len(lines) - 4
    outs = set(range(n_wires - 7, n_wires))
    written = [int(line.split()[-2]) for line in lines[4:]]
    assert outs <= set(written), "every output wire is written by a gate"
    assert all(w >= 5 for w in written), "no gate writes an input wire"
    assert len(written) == len(set(written)), "single assignment"
    assert sum(line.endswith(" EQ") for line in lines[4:]) >= 2
    assert any(line.endswith(" EQW") for line in lines[4:])
    xs, ys = [x_ for x_ in range(8) for _ in range(4)], list(range(4)) * 8
    assert bristol_eval(text, [xs, ys]) == [[(x_ + y_) % 8 for x_, y_ in zip(xs, ys)],
                                            [((y_ >> 1) * 5) | 2 for y_ in ys]]


def test_lsb_is_on_the_lowest_wire():
    """Output = input bit 0 only: the text must read wire 0 and write the first output wire."""
    b = Builder()
    x = b.input("x", 4)
    b.output("z", [b.not_(x[0])])
    lines = to_bristol(b.build()).splitlines()
    n_wires = int(lines[0].split()[1])
    assert lines[4:] == [f"1 1 0 {n_wires - 1} INV"]


@pytest.mark.parametrize("seed", range(15))
def test_round_trip_preserves_function(seed):
    c = random_circuit(seed, n_gates=70)
    back = from_bristol(to_bristol(c), ["p", "q"], ["r", "s"])
    assert back.input_widths() == c.input_widths() and back.output_widths() == c.output_widths()
    inputs = random_inputs(c, 100, seed)
    assert naive_eval(back, inputs) == naive_eval(c, inputs)
    want = naive_eval(c, inputs)
    assert bristol_eval(to_bristol(c), [inputs["p"], inputs["q"]]) == [want["r"], want["s"]]


def test_round_trip_default_names_and_wide_multiplier():
    c = build(lambda b, x, y: multiply.mul(b, x, y), 12, 12)
    back = from_bristol(to_bristol(c))
    assert list(back.inputs) == ["in0", "in1"] and list(back.outputs) == ["out0"]
    rng = np.random.default_rng(1)
    xs, ys = rng.integers(0, 4096, 50).tolist(), rng.integers(0, 4096, 50).tolist()
    assert naive_eval(back, {"in0": xs, "in1": ys})["out0"] == [x * y for x, y in zip(xs, ys)]


@pytest.mark.parametrize("text", [
    "1 3\n1 1 1\n1 1 1\n\n2 1 0 1 2 MAND\n",     # unsupported gate
    "2 3\n1 1 1\n1 1 1\n\n1 1 0 2 INV\n",         # wrong gate count
    "1 3\n1 1\n1 1 1\n\n1 1 0 2 INV\n",          # bad input line
    "1 4\n1 1\n1 1 1\n\n1 1 2 3 INV\n",          # reads an unassigned wire
    "1 4\n1 1\n1 1\n\n1 1 0 2 INV\n",            # output wire never assigned
])
def test_parser_rejects_bad_text(text):
    with pytest.raises(CircuitError):
        from_bristol(text)

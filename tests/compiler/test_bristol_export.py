"""`veil compile --emit bristol` output, run by a Bristol Fashion evaluator written here from
the format's description (not the project's parser), against tanh* and the masked relation."""
import json
import secrets

import pytest
from click.testing import CliRunner

from veil.cli import main

from .tanh_star_reference import tanh_star_int


def bristol_run(text: str, inputs: list[list[int]]) -> list[list[int]]:
    """Evaluate a Bristol Fashion circuit on many instances at once: every wire holds a Python
    int whose bit k is that wire's value in instance k. inputs[bus][k] is bus value k, least
    significant bit on the bus's lowest wire; outputs sit on the last wires."""
    lines = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
    n_gates, n_wires = map(int, lines[0])
    in_widths = list(map(int, lines[1][1:]))
    out_widths = list(map(int, lines[2][1:]))
    n = len(inputs[0])
    everyone = (1 << n) - 1
    wires = [0] * n_wires
    pos = 0
    for width, values in zip(in_widths, inputs):
        for bit in range(width):
            wires[pos + bit] = sum(((v >> bit) & 1) << k for k, v in enumerate(values))
        pos += width
    assert len(lines) - 3 == n_gates
    for g in lines[3:]:
        n_in, n_out = int(g[0]), int(g[1])
        args, out, op = g[2:2 + n_in], int(g[2 + n_in]), g[-1]
        if op == "XOR":
            wires[out] = wires[int(args[0])] ^ wires[int(args[1])]
        elif op == "AND":
            wires[out] = wires[int(args[0])] & wires[int(args[1])]
        elif op == "INV":
            wires[out] = wires[int(args[0])] ^ everyone
        elif op == "EQW":
            wires[out] = wires[int(args[0])]
        elif op == "EQ":
            wires[out] = everyone if args[0] == "1" else 0
        else:
            raise AssertionError(f"unknown gate {op}")
    outs, pos = [], n_wires - sum(out_widths)
    for width in out_widths:
        outs.append([sum(((wires[pos + bit] >> k) & 1) << bit for bit in range(width))
                     for k in range(n)])
        pos += width
    return outs


def emit(tmp_path, *args):
    out = tmp_path / "c.txt"
    res = CliRunner().invoke(main, ["compile", "tiny", "-o", str(out), *args])
    assert res.exit_code == 0, res.stderr
    return out.read_text()


@pytest.fixture(scope="module")
def tiny_stats():
    res = CliRunner().invoke(main, ["compile", "tiny", "--json"])
    s = json.loads(res.output)
    frac = lambda f: int(f.split(",")[1].rstrip(">"))
    return s["layers"][1], frac(s["formats"]["activation"]), s["formats"]["coefficient_frac"]


def test_unmasked_tanh_star(tmp_path, tiny_stats):
    layer, f_a, f_c = tiny_stats
    text = emit(tmp_path, "--emit", "bristol", "--layer", "2", "--unmasked")
    acc, acc_frac = layer["acc_bits"], layer["acc_frac"]
    xs = list(range(-3 << acc_frac, 3 << acc_frac, 97)) + [-(1 << (acc - 1)), (1 << (acc - 1)) - 1, 0, -1]
    (got,) = bristol_run(text, [[x % (1 << acc) for x in xs]])
    width = int(text.splitlines()[2].split()[1])
    signed = [v - (1 << width) if v >> (width - 1) else v for v in got]
    assert signed == [tanh_star_int(x, acc_frac, f_a, f_c) for x in xs]


def test_masked_relation(tmp_path, tiny_stats):
    layer, f_a, f_c = tiny_stats
    text = emit(tmp_path, "--emit", "bristol", "--layer", "2")
    acc, acc_frac = layer["acc_bits"], layer["acc_frac"]
    k, w_ru = int(text.splitlines()[1].split()[3]), 10 + 40        # r_lo; fix<10,8>, kappa 40
    x = [secrets.randbelow(6 << acc_frac) - (3 << acc_frac) for _ in range(500)]
    r_c = [secrets.randbits(acc + 40) for _ in x]
    r_u = [(1 << (w_ru - 40)) + secrets.randbelow((1 << w_ru) - (1 << (w_ru - 40))) for _ in x]
    x_masked = [(xi + rc) % (1 << acc) for xi, rc in zip(x, r_c)]
    low, carry, sign = bristol_run(text, [x_masked, [rc % (1 << acc) for rc in r_c],
                                          [ru % (1 << k) for ru in r_u]])
    y = [((ru >> k) + c - s) % (1 << (w_ru + 1 - k)) * (1 << k) + lo
         for ru, lo, c, s in zip(r_u, low, carry, sign)]      # the translation table's job
    assert y == [tanh_star_int(xi, acc_frac, f_a, f_c) + ru for xi, ru in zip(x, r_u)]

"""`veil compile` output for the built-in models, pinned byte for byte in tests/golden/ so
that any change to the IR, the stats or a synthesised circuit shows up as a reviewed diff.
VEIL_REFRESH_GOLDEN=1 rewrites the files instead (see tests/golden/README.md)."""
import difflib
import functools
import json
import os
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner

import veil.models
from veil.cli import main

from .tanh_star_reference import PAPER, TANH4, odd_quadratic_int
from .test_bristol_export import bristol_run

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
REFRESH = os.environ.get("VEIL_REFRESH_GOLDEN") == "1"
MODELS = "<models>"

CASES = {
    f"{model}.{suffix}": [model, *args]
    for model in ("tiny", "compact", "wide")
    for suffix, args in [("ir.txt", ["--emit", "ir"]),
                         ("layer1.bristol.txt", ["--emit", "bristol", "--layer", "1"]),
                         ("stats.json", ["--emit", "stats", "--json"])]
}


@functools.cache
def render(name: str) -> str:
    """CLI output for a case, with the install-dependent models directory made portable."""
    res = CliRunner().invoke(main, ["compile", *CASES[name]])
    assert res.exit_code == 0, res.output
    out, models = res.stdout, Path(veil.models.__file__).parent
    for d in {models, models.resolve()}:
        out = out.replace(json.dumps(str(d))[1:-1], MODELS)
    return out


@pytest.mark.parametrize("name", CASES)
def test_golden(name):
    path, got = GOLDEN / name, render(name)
    if REFRESH:
        changed = not path.exists() or path.read_text() != got
        if changed:
            path.write_text(got)
        pytest.skip(f"golden file {'refreshed' if changed else 'already current'}: {path}")
    assert path.exists(), f"{path} missing; create it with VEIL_REFRESH_GOLDEN=1"
    want = path.read_text()
    if got != want:
        diff = difflib.unified_diff(want.splitlines(), got.splitlines(), str(path),
                                    "veil compile " + " ".join(CASES[name]), lineterm="")
        pytest.fail("output differs from the golden file (VEIL_REFRESH_GOLDEN=1 if intended):\n"
                    + "\n".join(list(diff)[:40] or ["(only line endings differ)"]), pytrace=False)


def golden_layer1(model: str) -> tuple[str, dict, dict]:
    text = (GOLDEN / f"{model}.layer1.bristol.txt").read_text()
    stats = json.loads((GOLDEN / f"{model}.stats.json").read_text())
    return text, stats, stats["layers"][0]


@pytest.mark.parametrize("model", ["tiny", "compact", "wide"])
def test_golden_bristol_matches_golden_stats(model):
    """The pinned circuit and the pinned stats describe the same masked layer-1 activation."""
    text, _, layer = golden_layer1(model)
    masked = layer["activation"]["masked"]
    head = [list(map(int, ln.split())) for ln in text.splitlines()[:3]]
    ops = [ln.split()[-1] for ln in text.splitlines()[3:] if ln.strip()]
    assert head[0][0] == len(ops) == masked["and"] + masked["xor"] + masked["not"]
    assert (ops.count("AND"), ops.count("XOR"), ops.count("INV")) == (
        masked["and"], masked["xor"], masked["not"])
    assert head[1] == [len(masked["inputs"]), *masked["inputs"].values()]
    assert head[2] == [len(masked["outputs"]), *masked["outputs"].values()]


@pytest.mark.parametrize("model, segments", [("tiny", PAPER), ("wide", TANH4)])
def test_golden_bristol_computes_masked_activation(model, segments):
    """The pinned circuit is checked, not trusted: y_masked = act(x) + r_u, by an evaluator
    written from the Bristol Fashion description and an independent integer tanh* (tiny's)
    or tanh4 (wide's)."""
    text, stats, layer = golden_layer1(model)
    frac = lambda f: int(f.split(",")[1].rstrip(">"))
    f_a, f_c = frac(stats["formats"]["activation"]), stats["formats"]["coefficient_frac"]
    acc, acc_frac = layer["acc_bits"], layer["acc_frac"]
    k, w_ru = layer["activation"]["masked"]["inputs"]["r_lo"], 10 + 40  # fix<10,8>, kappa 40
    x = [secrets.randbelow(8 << acc_frac) - (4 << acc_frac) for _ in range(300)]  # past 3.2
    x += [-(1 << (acc - 1)), (1 << (acc - 1)) - 1, 0, -1]
    r_c = [secrets.randbits(acc + 40) for _ in x]
    r_u = [(1 << (w_ru - 40)) + secrets.randbelow((1 << w_ru) - (1 << (w_ru - 40))) for _ in x]
    x_masked = [(xi + rc) % (1 << acc) for xi, rc in zip(x, r_c)]
    low, carry, sign = bristol_run(text, [x_masked, [rc % (1 << acc) for rc in r_c],
                                          [ru % (1 << k) for ru in r_u]])
    y = [((ru >> k) + c - s) % (1 << (w_ru + 1 - k)) * (1 << k) + lo
         for ru, lo, c, s in zip(r_u, low, carry, sign)]      # the translation table's job
    assert y == [odd_quadratic_int(xi, segments, acc_frac, f_a, f_c) + ru
                 for xi, ru in zip(x, r_u)]

"""veil.check: the result `veil check` prints, the first differing patch with both outputs,
one-line errors. (The secure backend against the reference, on test keys, is docs/api.md's
example, run by test_api_docs.py.)"""
import numpy as np
import pytest
from click.testing import CliRunner

import veil
from veil.backends.plaintext import PlaintextBackend
from veil.backends.registry import _BACKENDS, register
from veil.cli import main


@pytest.fixture
def off_by_one():
    """An exact backend that differs from plaintext in one output of patches 1 and 3."""
    class OffByOne(PlaintextBackend):
        name = "off-by-one-api-test"

        def run_fixed(self, program, x):
            out = super().run_fixed(program, x)
            out[1, 0] += 1
            out[3, -1] -= 2
            return out
    register(OffByOne)
    yield OffByOne.name
    del _BACKENDS[OffByOne.name]


@pytest.fixture(scope="module")
def tiny():
    return veil.compile("tiny")


def cli_check(*args):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def test_a_difference_is_found_and_reported_as_the_command_does(tiny, off_by_one):
    result = veil.check(tiny, backends=("plaintext", off_by_one), patches=5, seed=2)
    assert not result.identical
    d = result.first_difference
    assert (d.backend, d.reference, d.patch) == (off_by_one, "plaintext", 1)
    assert d.got.shape == d.expected.shape == (1,) and int(d.got[0] - d.expected[0]) == 1
    # the patch itself: its pixels give the reference output on their own
    alone = PlaintextBackend().run_fixed(tiny.ir, tiny.ir.quantise_input(d.pixels[None]))
    assert np.array_equal(alone[0], d.expected)
    cli = cli_check("tiny", "--backends", f"plaintext,{off_by_one}", "--patches", 5, "--seed", 2)
    assert cli.exit_code == 1 and cli.output == result.summary + "\n"
    assert "3/5 patches bit-identical; first difference in patch 1" in str(result)


def test_identical_backends_and_the_commands_text(tiny, off_by_one):
    result = veil.check(tiny, backends="plaintext,plaintext", patches=3)
    assert result.identical and result.first_difference is None
    assert result.summary == "plaintext vs plaintext (packed): 3/3 patches bit-identical"
    one = veil.check("tiny", backends=["plaintext"], patches=4, lowering="paper")
    assert one.identical
    assert cli_check("tiny", "--patches", 4, "--lowering", "paper").output == one.summary + "\n"
    three = veil.check(tiny, backends=("plaintext", "plaintext", off_by_one), patches=4)
    assert three.identical_counts == (4, 2) and three.first_difference.backend == off_by_one
    assert three.summary.splitlines()[1].endswith("2/4 patches bit-identical; first "
                                                  "difference in patch 1")


def test_errors_are_one_line(tiny):
    cases = [(dict(patches=0), "patches must be at least 1"),
             (dict(backends=("plaintext", "float")), "backend float is not exact"),
             (dict(backends=("plaintext", "quantum")), "unknown backend 'quantum'"),
             (dict(backends=()), "name at least one exact backend"),
             (dict(lowering="fast"), "unknown lowering 'fast'")]
    for kwargs, words in cases:
        with pytest.raises(veil.UsageError, match=words) as info:
            veil.check("tiny" if "lowering" in kwargs else tiny,
                       **{"backends": ("plaintext",), **kwargs})
        assert "\n" not in str(info.value) and "--" not in str(info.value)
    with pytest.raises(veil.UsageError, match="differs from the compiled program's 'packed'"):
        veil.check(tiny, lowering="paper")

"""Fuzzing the spec parser and checker: mutated shipped specs, random token streams and
grammar-shaped specs with random numbers compile to a Program or fail with one
FILE:LINE:COL line, within a time budget; nothing else (spec_fuzzkit.py). The default run
tries a few hundred specs in seconds; `pytest -m slow` tries thousands."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings

from veil.compiler.errors import SpecError
from veil.compiler.program import Program

from .spec_fuzzkit import (compile_or_refuse, fuzz_compiler, mutated_specs, seeds,
                           shaped_specs, time_budget, Hang, token_streams)

QUICK = settings(max_examples=120, deadline=None, derandomize=False,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LONG = settings(QUICK, max_examples=4000)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """Names the text in messages; its folder is empty, so a `weights "FILE"` clause that a
    mutation happens to make opens nothing real."""
    with fuzz_compiler():
        yield str(tmp_path_factory.mktemp("fuzz") / "fuzz.veil")


def test_seeds_are_what_the_fuzz_expects(source):
    outcomes = [compile_or_refuse(text, source) for text in seeds()]
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds.count("Program") == 3, kinds              # compact, tiny, the own activation
    assert "layer 1 has 4672512 weights" in str(outcomes[0])  # burger, over the fuzz's cap


def test_time_budget_interrupts():
    with pytest.raises(Hang):
        with time_budget(0.2):
            while True:
                pass


# Found by this fuzz; each raised something other than a SpecError before the fix.
_TINY = ("model tiny { patch 5 -> 1 normalise p -> p / 255 input fix<12, 9> "
         "activation fix<10, 8> weight fix<11, 9> bias fix<24, 17> coefficient frac 9 "
         "weights random seed 1 dense 25 -> 8 a dense 8 -> 1 }\n")


def _act(saturation: str, bound: str, poly: str) -> str:
    return f"activation a odd saturate {saturation} {{ |x| <= {bound} : {poly} }}\n" + _TINY


FOUND = {
    "a 5000-digit integer": (_TINY.replace("patch 5", "patch " + "9" * 5000),
                             "1:20: a number of 5000 characters"),    # ValueError
    "a huge saturation": (_act("1e308", "1", "x"), "saturat"),  # OverflowError
    "a huge bound": (_act("1", "1e308", "x"), "last bound"),     # OverflowError
    "a huge coefficient": (_act("1", "1", "1e308 * x^16"), "polynomials reach"),
    "an infinite exponent": (_act("1", "1", "x^(1e308 * 10)"), "exponent must be"),
    "an infinite literal": (_act("1", "1", "x^1e309"), "1:43: exponent must be"),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_found_by_fuzzing(source, name):
    text, words = FOUND[name]
    outcome = compile_or_refuse(text, source)
    assert isinstance(outcome, SpecError) and words in str(outcome), outcome


def outcome(result) -> str:
    """For --hypothesis-show-statistics: how far the examples got."""
    if isinstance(result, Program):
        return "compiled"
    message = str(result).split(": ", 1)[1]
    return "refused: " + ("syntax" if message.startswith(("expected", "unexpected"))
                          else "checker or lowering")


@QUICK
@given(text=mutated_specs())
def test_mutated_specs(source, text):
    event(outcome(compile_or_refuse(text, source)))


@QUICK
@given(text=token_streams())
def test_token_streams(source, text):
    event(outcome(compile_or_refuse(text, source)))


@QUICK
@given(text=shaped_specs())
def test_shaped_specs(source, text):
    event(outcome(compile_or_refuse(text, source)))


@pytest.mark.slow
@LONG
@given(text=mutated_specs() | token_streams() | shaped_specs())
def test_fuzz_specs_long(source, text):
    event(outcome(compile_or_refuse(text, source)))


def test_a_compiled_seed_is_a_program(source):
    assert isinstance(compile_or_refuse(seeds()[2], source), Program)

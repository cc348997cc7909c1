"""Spec fuzzing: seeds, mutations and the oracle (tests/compiler/test_fuzz_spec.py).

The seeds are the shipped specs (models/*.veil, their weights clause made `weights random
seed N`: a mutated spec must never name a file) and compiler/prelude.veil. A mutation edits
characters, tokens, lines (a clause duplicated, dropped, moved) or swaps a number for an
extreme; a random stream is keywords, punctuation, names and numbers in any order; a shaped
spec is a model block of well-formed clauses with random numbers, which gets past the parser
into the checker and the lowering.

The oracle (`compile_or_refuse`) accepts exactly two outcomes: a Program, or a VeilError whose
message starts FILE:LINE:COL inside the text. Anything else escapes (and hypothesis shrinks
it), and a per-example time budget turns a hang into a failure.
"""
from __future__ import annotations

import contextlib
import functools
import re
import signal
from pathlib import Path

import pytest
from hypothesis import strategies as st

from veil.compiler import budget, lower
from veil.compiler.driver import compile_text
from veil.compiler.parser import PRELUDE, keywords
from veil.compiler.program import Program
from veil.models.catalog import MODELS_DIR
from veil.util.errors import VeilError

BUDGET_SECONDS = 20.0          # per example: compiling a seed takes about 0.1 s here
# Layer sizes the fuzz lets through to the compiler, smaller than the compiler's own budget
# so that an example costs milliseconds: a 60-byte clause such as `dense 25 -> 600000
# tanh_star` is within the weight budget (compiler/budget.py, 2^24 per layer) and allocates
# over 100 MB. The activation budgets need no such cap (their worst costs seconds, not
# gigabytes, and the circuits are memoised below).
FUZZ_LAYER_WEIGHTS = 1 << 18


def _seed_text(path: Path) -> str:
    return re.sub(r'^(\s*)weights\s+"[^"\n]*"', r"\1weights random seed 7", path.read_text(),
                  flags=re.M)


@functools.cache
def seeds() -> tuple[str, ...]:
    models = [_seed_text(p) for p in sorted(MODELS_DIR.glob("*.veil"))]
    prelude = PRELUDE.read_text()
    tiny = _seed_text(MODELS_DIR / "tiny.veil")
    own = prelude.replace("tanh_star", "my_act") + tiny.replace("tanh_star", "my_act")
    return tuple(models) + (prelude, own, prelude + tiny)


# -- tokens -----------------------------------------------------------------------------------
_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"|\|\s*x\s*\||->|<=|'
                    r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z_]\w*|.", re.S)
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")

PUNCTUATION = ("{", "}", "(", ")", "<", ">", ",", ":", "->", "<=", "|x|", "+", "-", "*", "/",
               "^", "#", '"', "|", "x", "p", "tanh_star", "my_act", "\n")
EXTREMES = ("0", "1", "-1", "00", "0.0", "-0", ".5", "1.", "2.5e-3", "1e308", "1e309",
            "-1e308", "1e-400", "4.9e-324", "62", "63", "64", "4294967296",
            "18446744073709551616", "9" * 40, "9" * 5000, "0." + "0" * 400 + "1",
            "nan", "NaN", "inf", "-inf", "1e", ".e5", "0x10", "1_000", "1e+", "Infinity")
CHARS = tuple("{}()<>,:;|-+*/^#\"'\\.=!_xpe0129 \t\n\r") + ("\x00", "\x7f", "\u00e9",
                                                               "\u2212", "\ufeff", "\U0001f600")


def tokens(text: str) -> list[str]:
    """Lexer-like pieces whose concatenation is the text (whitespace and comments kept)."""
    return _TOKEN.findall(text)


def vocabulary() -> tuple[str, ...]:
    return tuple(sorted(keywords())) + PUNCTUATION + EXTREMES


# -- mutations ----------------------------------------------------------------------------------
def _char_edit(draw, toks: list[str]) -> list[str]:
    text = "".join(toks)
    at = draw(st.integers(0, len(text)))
    how = draw(st.sampled_from(("delete", "insert", "replace")))
    ch = draw(st.sampled_from(CHARS) | st.characters(codec="utf-8"))
    if how == "insert" or at == len(text):
        return tokens(text[:at] + ch + text[at:])
    return tokens(text[:at] + ("" if how == "delete" else ch) + text[at + 1:])


def _token_edit(draw, toks: list[str]) -> list[str]:
    if not toks:
        return [draw(st.sampled_from(vocabulary()))]
    i = draw(st.integers(0, len(toks) - 1))
    how = draw(st.sampled_from(("delete", "duplicate", "insert", "replace")))
    new = draw(st.sampled_from(vocabulary()))
    if how == "delete":
        return toks[:i] + toks[i + 1:]
    if how == "duplicate":
        return toks[:i + 1] + [" ", toks[i]] + toks[i + 1:]
    if how == "insert":
        return toks[:i] + [new, " "] + toks[i:]
    return toks[:i] + [new] + toks[i + 1:]


def _number_edit(draw, toks: list[str]) -> list[str]:
    where = [i for i, t in enumerate(toks) if _NUMBER.fullmatch(t)]
    if not where:
        return toks
    i = draw(st.sampled_from(where))
    return toks[:i] + [draw(st.sampled_from(EXTREMES))] + toks[i + 1:]


def _line_edit(draw, toks: list[str]) -> list[str]:
    """A clause duplicated (a few times), dropped or moved: one clause is one line here."""
    lines = "".join(toks).split("\n")
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(("duplicate", "delete", "move")))
    if how == "duplicate":
        lines[i:i] = [lines[i]] * draw(st.integers(1, 3))
    elif how == "delete":
        del lines[i]
    else:
        lines.insert(j, lines.pop(i))
    return tokens("\n".join(lines))


MUTATIONS = (_char_edit, _token_edit, _number_edit, _line_edit)


@st.composite
def mutated_specs(draw) -> str:
    toks = tokens(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 4))):
        toks = draw(st.sampled_from(MUTATIONS))(draw, toks)
    return "".join(toks)


@st.composite
def token_streams(draw) -> str:
    words = draw(st.lists(st.sampled_from(vocabulary()), max_size=120))
    seps = draw(st.lists(st.sampled_from((" ", "\n", "\t", "")), min_size=len(words),
                         max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps))


# -- specs shaped like the grammar, numbers random ----------------------------------------------
_EXTREME_NUMBERS = tuple(e for e in EXTREMES if _NUMBER.fullmatch(e))


def _near(value: int, spread: int = 3) -> st.SearchStrategy[str]:
    return st.integers(max(0, value - spread), value + spread).map(str)


_real = st.floats(0.01, 300, allow_nan=False).map(lambda v: f"{v:.4g}")


@st.composite
def shaped_specs(draw) -> str:
    """A model block (and maybe an activation) of well-formed clauses in any order, with
    plausible numbers (near the shipped specs', sizes that chain most of the time), some of
    them swapped for extremes."""
    wild = draw(st.sampled_from((0, 0, 2, 10)))         # percent; hypothesis favours the first
    rare = st.sampled_from((False, False, False, True))

    def n(plausible: st.SearchStrategy[str]) -> str:
        if wild and draw(st.integers(0, 99)) >= 100 - wild:
            return draw(st.sampled_from(_EXTREME_NUMBERS) | _near(30, 30))
        return draw(plausible)

    i = draw(st.integers(1, 7))
    o = draw(st.sampled_from([k for k in range(1, i + 1) if (i - k) % 2 == 0]))
    sizes = [i * i, *draw(st.lists(st.integers(1, 12), max_size=3)), o * o]
    if draw(rare):
        sizes = [draw(st.integers(1, 50)) for _ in sizes]
    act = draw(st.sampled_from(("tanh_star", "my_act", "nothing")))
    pick = lambda *options: draw(st.sampled_from(options))          # noqa: E731
    clauses = [f"patch {n(_near(i, 0))} -> {n(_near(o, 0))}" + pick("", f" stride {n(_near(o, o - 1))}"),
               f"normalise p -> (p / {n(_real)} - {n(_real)}) / {n(_real)}",
               f"predict {pick('clean', 'residual')}", f"coefficient frac {n(_near(9))}",
               f"weights random seed {n(_near(7))}"]
    for kind, (total, frac) in {"input": (12, 9), "activation": (10, 8), "weight": (11, 9),
                                "bias": (24, 17)}.items():
        t = draw(st.integers(total - 3, total + 3))
        f = draw(st.integers(frac - 3, min(frac + 3, t - 1)))
        clauses.append(f"{kind} fix<{n(st.just(str(t)))}, {n(st.just(str(f)))}>")
    for k, (a, b) in enumerate(zip(sizes, sizes[1:]), start=2):
        clauses.append(f"dense {n(_near(a, 0))} -> {n(_near(b, 0))}"
                       + (f" {act}" if k < len(sizes) else ""))
    dense = [c for c in clauses if c.startswith("dense")]
    clauses = draw(st.permutations(clauses))
    if not draw(rare):                          # keep the layers in network order
        layers = iter(dense)
        clauses = [next(layers) if c.startswith("dense") else c for c in clauses]
    if draw(rare):
        clauses.insert(draw(st.integers(0, len(clauses))), draw(st.sampled_from(clauses)))
    head = ""
    if draw(st.booleans()):
        bounds = sorted(draw(st.lists(_real, min_size=1, max_size=3)), key=float)
        segs = "\n".join(f"  |x| <= {n(st.just(b))} : {n(_real)} * x^{n(_near(1, 2))} + "
                         f"{n(_real)} * x - {n(_real)}" for b in bounds)
        head = (f"activation my_act {pick('odd', 'even')} saturate {n(_real)} {{\n{segs}\n}}\n")
    return head + "model fuzz {\n" + "\n".join("    " + c for c in clauses) + "\n}\n"


# -- the oracle -----------------------------------------------------------------------------------
class Hang(BaseException):
    """A BaseException, so that no `except Exception` in the code under test swallows it."""


@contextlib.contextmanager
def time_budget(seconds: float):
    """Interrupt the main thread after `seconds` (SIGALRM); pytest runs tests there."""
    def ring(signum, frame):
        raise Hang(f"no outcome within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def compile_or_refuse(text: str, source: str) -> Program | VeilError:
    with time_budget(BUDGET_SECONDS):
        try:
            return compile_text(text, source)
        except VeilError as e:
            error = e
    message = str(error)
    m = re.match(re.escape(source) + r":(\d+):(\d+): \S", message)
    assert m, f"a {type(error).__name__} without FILE:LINE:COL: {message!r}"
    lines = text.split("\n")
    line, col = int(m[1]), int(m[2])
    assert 1 <= line <= len(lines), f"line {line} outside the text: {message!r}"
    assert 1 <= col <= len(lines[line - 1]) + 1, f"column {col} outside line {line}: {message!r}"
    assert "\n" not in message, f"a message of several lines: {message!r}"
    return error


@contextlib.contextmanager
def fuzz_compiler():
    """Caps the sizes (see FUZZ_LAYER_WEIGHTS) and memoises activation circuits by their
    table (synthesis is deterministic in it), so that an example costs milliseconds."""
    synth = {"bare": lower.activation_circuit, "masked": lower.masked_activation_circuit}
    optimise = lower.optimise

    @functools.cache
    def optimised(kind: str, *args):
        return optimise(synth[kind](*args))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(budget, "MAX_LAYER_WEIGHTS", FUZZ_LAYER_WEIGHTS)
        mp.setattr(lower, "activation_circuit", lambda table: optimised("bare", table))
        mp.setattr(lower, "masked_activation_circuit",
                   lambda table, kappa: optimised("masked", table, kappa))
        mp.setattr(lower, "optimise", lambda circuit: circuit)
        yield

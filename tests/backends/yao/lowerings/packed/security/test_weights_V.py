"""The user's view of the weights: V = W + R, received once at provisioning, with R above
every weight and uniform over its kappa bits, so V tells nothing about W."""
import pytest

from .packed_security_kit import KAPPA, assert_hides, assert_spread, normalised, received_V

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def test_V_is_W_plus_R_with_R_above_every_weight(run):
    """V - W = R, with every R >= 2^l_w and < 2^(l_w + kappa): V is never a weight value,
    and R is uniform-looking over the kappa-bit range."""
    pooled = []
    for layer, sh, V, R in zip(run["layers"], run["shapes"], received_V(run), run["R"]):
        W = layer.weights.tolist()
        assert [[v - w for v, w in zip(vs, ws)] for vs, ws in zip(V, W)] == R
        assert all((1 << sh.weight_bits) <= r < (1 << (sh.weight_bits + KAPPA))
                   for row in R for r in row)
        fmt = layer.weight_format
        assert min(v for row in V for v in row) > fmt.max_int
        pooled += normalised([r for row in R for r in row], sh.weight_bits)
    assert_spread(pooled, "R")


def test_V_reveals_nothing_about_any_weight(run):
    """For every V entry, every weight value w of the format is consistent with it (V - w is
    a possible R): the posterior on W given V is the prior. This fails only for V within
    2^l_w of the ends of R's range, probability 2^-kappa per weight."""
    for layer, sh, V in zip(run["layers"], run["shapes"], received_V(run)):
        fmt = layer.weight_format
        assert (fmt.min_int, fmt.max_int) == (-(1 << (sh.weight_bits - 1)),
                                              (1 << (sh.weight_bits - 1)) - 1)
        assert sum(len(row) for row in V) == layer.weights.size
        assert_hides([v for row in V for v in row], sh.weight_bits, sh.weight_bits, "V")


def test_guessing_weights_from_V_fails(run):
    """Explicit attackers that read a weight off V: subtract a fixed R (its floor, middle or
    top), or take V mod 2^l_w as a signed weight. The offsets need R hit exactly (2^-kappa);
    the low-bits guess is right only when R = 0 mod 2^l_w (2^-l_w, blind guessing)."""
    hits = {"floor": 0, "middle": 0, "top": 0, "low bits": 0}
    agree, total = 0, 0
    for layer, sh, V in zip(run["layers"], run["shapes"], received_V(run)):
        lw = sh.weight_bits
        lo, hi = 1 << lw, 1 << (lw + KAPPA)
        for vs, ws in zip(V, layer.weights.tolist()):
            for v, w in zip(vs, ws):
                low = v % lo
                guesses = {"floor": v - lo, "middle": v - (lo + hi) // 2, "top": v - hi + 1,
                           "low bits": low - lo if low >= lo // 2 else low}
                for name, g in guesses.items():
                    hits[name] += g == w
                agree += (v & 1) == (w & 1)
                total += 1
    assert hits["floor"] == hits["middle"] == hits["top"] == 0, hits
    assert hits["low bits"] <= 5, hits                 # expected total / 2^11 = 0.13
    assert 0.3 < agree / total < 0.7, "V's low bit follows W's"

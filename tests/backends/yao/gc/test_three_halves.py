"""Three-halves garbling (docs/garbling.md) against scalar reference code: the evaluator's row
equations in the paper's matrix form, for every input combination of every gate; the garbler's
documented formulas; and the dicing attacked: without the garbler's random bits rho, the
control bits the evaluator decrypts would give away the garbler's truth values."""
import numpy as np
import pytest

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc import three_halves_garbler as TH
from veil.backends.yao.gc.hash import TweakHash, hash_reference
from veil.backends.yao.gc.tweaks import tweak
from veil.circuits.builder import Builder
from veil.circuits.linear import linearise

S1 = ((1, 1, 1, 0), (1, 0, 0, 1))     # R_ij = P_ij ^ r1 S1 ^ r2 S2 over (A_L, A_R, B_L, B_R)
S2 = ((1, 0, 0, 1), (0, 1, 1, 1))
BASE, FIRST = 0xC0FFEE, 40


def _and_gates(width: int):
    """width parallel AND gates z_k = a_k & b_k (a: the garbler's, b: the evaluator's)."""
    b = Builder()
    x, y = b.input("a", width), b.input("b", width)
    b.output("z", [b.and_(u, v) for u, v in zip(x, y)])
    return linearise(b.build())


def _halves(label) -> list[int]:
    raw = bytes(label)
    return [int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")]


def _label(left: int, right: int) -> bytes:
    return left.to_bytes(8, "little") + right.to_bytes(8, "little")


def _hc(x: bytes, t: int) -> tuple[int, int]:
    """h (word 0 of H) and c (bit 0 of word 1)."""
    h = _halves(hash_reference(x, t))
    return h[0], h[1] & 1


def _xor(x: bytes, y: bytes) -> bytes:
    return bytes(u ^ v for u, v in zip(x, y))


def _tweaks(instance: int, and_count: int, gate: int) -> list[int]:
    return [tweak(BASE, instance, and_count, gate, s, per_gate=3) for s in range(3)]


def scalar_evaluate(A: bytes, B: bytes, G3, z, tweaks) -> bytes:
    """The evaluator in matrix form: C = M (hA, hB, hAB) ^ V_ij G ^ R_ij (A_L, A_R, B_L, B_R)."""
    AL, AR = _halves(A)
    BL, BR = _halves(B)
    i, j = AL & 1, BL & 1
    (hA, cA), (hB, cB), (hAB, cAB) = (_hc(x, t) for x, t in zip((A, B, _xor(A, B)), tweaks))
    r1 = z[0] ^ (i & z[2]) ^ ((i ^ j) & z[4]) ^ cA ^ cAB
    r2 = z[1] ^ (j & z[3]) ^ ((i ^ j) & z[4]) ^ cB ^ cAB
    V = ((i, 0, i ^ j), (0, j, i ^ j))
    P = ((0, 0, i, 0), (0, j, 0, 0))
    out = [hA ^ hAB, hB ^ hAB]
    for row in range(2):
        for k in range(3):
            out[row] ^= G3[k] if V[row][k] else 0
        for k, half in enumerate((AL, AR, BL, BR)):
            out[row] ^= half if P[row][k] ^ (r1 & S1[row][k]) ^ (r2 & S2[row][k]) else 0
    return _label(*out)


def scalar_garble(A0: bytes, B0: bytes, R: bytes, rho, tweaks):
    """The garbler's documented formulas: (C0, (G0, G1, G2), z)."""
    RL, RR = _halves(R)
    pa, pb = _halves(A0)[0] & 1, _halves(B0)[0] & 1
    a, b = (_xor(x, R) if p else x for x, p in ((A0, pa), (B0, pb)))
    (hA0, cA0), (hA1, cA1) = (_hc(x, tweaks[0]) for x in (a, _xor(a, R)))
    (hB0, cB0), (hB1, cB1) = (_hc(x, tweaks[1]) for x in (b, _xor(b, R)))
    (hAB0, cAB0), (hAB1, cAB1) = (_hc(x, tweaks[2]) for x in (_xor(a, b), _xor(_xor(a, b), R)))
    (aL, aR), (bL, bR) = _halves(a), _halves(b)
    X0, Y0 = aL ^ aR ^ bL, aL ^ bR
    r1, r2 = rho
    m = lambda bit, v: v if bit else 0  # noqa: E731
    u, v = pa ^ r2, pb ^ r1
    w = u ^ v
    C0 = _label(hA0 ^ hAB0 ^ m(r1, X0) ^ m(r2, Y0) ^ m(pa & pb, RL),
                hB0 ^ hAB0 ^ m(r1, Y0) ^ m(r2, X0 ^ Y0) ^ m(pa & pb, RR))
    G3 = (hA0 ^ hA1 ^ bL ^ m(pa, X0) ^ m(pb, Y0) ^ m(u, RL) ^ m(w, RR),
          hB0 ^ hB1 ^ aR ^ m(pa, Y0) ^ m(pb, X0 ^ Y0) ^ m(w, RL) ^ m(v, RR),
          hAB0 ^ hAB1 ^ m(pa, X0 ^ Y0) ^ m(pb, X0) ^ m(v, RL) ^ m(u, RR))
    z = (r1 ^ cA0 ^ cAB0, r2 ^ cB0 ^ cAB0, pa ^ cA0 ^ cA1, pb ^ cB0 ^ cB1, pa ^ pb ^ cAB0 ^ cAB1)
    return C0, G3, z


def _garbled(width: int, n: int, values_a, values_b, seed=None):
    lin = _and_gates(width)
    gc, sec = G.garble(lin, n, BASE, first_instance=FIRST, scheme="three-halves", seed=seed)
    zero, one = G.label_pairs(sec, "b")
    bits_b = np.array([[(v >> k) & 1 for v in values_b] for k in range(width)], np.uint8)
    labels = {"a": G.input_labels(sec, "a", values_a),
              "b": np.where(bits_b[..., None] == 1, one, zero)}
    return lin, gc, sec, labels


def test_every_row_of_every_gate_gives_the_and_of_the_truth_values():
    """For each gate and instance, all four input combinations through the scalar matrix-form
    evaluator give C(a, b) = C(0, 0) ^ (a & b) R; the batched evaluator's label is the one of
    the actual inputs, and C(0, 0)'s colour is the decoding bit."""
    width, n = 3, 24
    rng = np.random.default_rng(1)  # test data only
    va, vb = rng.integers(0, 8, n), rng.integers(0, 8, n)
    lin, gc, sec, labels = _garbled(width, n, va, vb)
    out = G.evaluate(lin, gc, labels)["z"]
    R = bytes(sec.delta)
    for g in range(width):
        for k in range(n):
            A0, B0 = bytes(sec.zero_labels["a"][g, k]), bytes(sec.zero_labels["b"][g, k])
            G3 = [int.from_bytes(bytes(gc.tables[g, r, k]), "little") for r in range(3)]
            z = [int(gc.control[r, g, k]) for r in range(5)]
            tw = _tweaks(FIRST + k, lin.and_count, g)
            C = {(x, y): scalar_evaluate(_xor(A0, R) if x else A0, _xor(B0, R) if y else B0,
                                         G3, z, tw) for x in (0, 1) for y in (0, 1)}
            for (x, y), c in C.items():
                assert c == (_xor(C[0, 0], R) if x & y else C[0, 0]), (g, k, x, y)
            assert bytes(out[g, k]) == C[(int(va[k]) >> g) & 1, (int(vb[k]) >> g) & 1]
            assert gc.decoding["z"][g, k] == C[0, 0][0] & 1
    assert G.decode(gc, {"z": out})["z"].tolist() == (va & vb).tolist()


def test_the_tables_are_the_documented_formulas_with_fresh_dice():
    """G0, G1, G2, z and the output zero-label recomputed from the garbler's secrets by the
    formulas of docs/garbling.md; rho (read back from z0, z1) is uniform over the gates."""
    width, n = 4, 64
    lin, gc, sec, labels = _garbled(width, n, np.arange(n) % 16, np.arange(n) // 4 % 16)
    out = G.evaluate(lin, gc, labels)["z"]
    R, dice = bytes(sec.delta), []
    for g in range(width):
        for k in range(n):
            A0, B0 = bytes(sec.zero_labels["a"][g, k]), bytes(sec.zero_labels["b"][g, k])
            tw = _tweaks(FIRST + k, lin.and_count, g)
            z = [int(gc.control[r, g, k]) for r in range(5)]
            C0, _, z00 = scalar_garble(A0, B0, R, (0, 0), tw)
            rho = (z[0] ^ z00[0], z[1] ^ z00[1])
            C0, G3, z_want = scalar_garble(A0, B0, R, rho, tw)
            assert [int.from_bytes(bytes(gc.tables[g, r, k]), "little") for r in range(3)] == \
                list(G3)
            assert z == list(z_want)
            x, y = (k % 16 >> g) & 1, (k // 4 % 16 >> g) & 1
            assert bytes(out[g, k]) == (_xor(C0, R) if x & y else C0)
            dice.append(rho)
    counts = np.bincount([2 * r1 + r2 for r1, r2 in dice], minlength=4)
    assert counts.min() > 0.25 * len(dice) - 6 * np.sqrt(len(dice) * 3 / 16)


def _control_leak(monkeypatch, diced: bool, n: int = 3000, seed=None
                  ) -> list[tuple[int, float]]:
    """The evaluator's attack on one AND gate: from its colours (i, j) and the control bits it
    decrypts (r1, r2), guess the garbler's input bit. Returns (count, mean of the garbler's
    bit) for every cell (i, j, r1, r2) seen at least 50 times."""
    if not diced:
        monkeypatch.setattr(TH, "random_bytes", lambda k: np.zeros(k, np.uint8))
    rng = np.random.default_rng(7)  # test data only
    va, vb = rng.integers(0, 2, n), rng.integers(0, 2, n)
    lin, gc, _, labels = _garbled(1, n, va, vb, seed)
    A, B = (labels[k][0].copy() for k in "ab")
    x = np.concatenate([A, B, A ^ B]).view("<u8").reshape(3, n, 2)
    t = np.zeros((3, n, 2), "<u8")
    t[..., 1] = BASE
    t[..., 0] = [[tweak(0, FIRST + k, 1, 0, s, per_gate=3) for k in range(n)] for s in range(3)]
    c = TweakHash(3 * n).hash(x, t)[..., 1] & 1               # cA, cB, cAB
    i, j = A[:, 0] & 1, B[:, 0] & 1
    z = gc.control[:, 0].astype(np.uint64)
    r1 = z[0] ^ (i & z[2]) ^ ((i ^ j) & z[4]) ^ c[0] ^ c[2]
    r2 = z[1] ^ (j & z[3]) ^ ((i ^ j) & z[4]) ^ c[1] ^ c[2]
    cell = (8 * i + 4 * j + 2 * r1 + r2).astype(np.int64)
    cells = [va[cell == v] for v in np.unique(cell)]
    return [(len(bits), bits.mean()) for bits in cells if len(bits) >= 50]


@pytest.mark.parametrize("seed", [None, bytes(range(32))],
                         ids=["fresh dice", "dice from a seed (garbling on workers)"])
def test_the_control_bits_tell_the_evaluator_nothing_about_the_garblers_input(monkeypatch,
                                                                              seed):
    cells = _control_leak(monkeypatch, diced=True, seed=seed)
    assert len(cells) == 16                     # every (i, j, r1, r2) occurs: r is uniform
    assert all(abs(mean - 0.5) < 6 * np.sqrt(0.25 / count) for count, mean in cells)


def test_without_the_dice_the_same_attack_reads_the_garblers_input(monkeypatch):
    """The power of the test above: with rho = 0, every row but colours (0, 0) gives the
    garbler's bit exactly (at colours (0, 1), r2 = pa and the garbler's bit is i ^ pa)."""
    cells = _control_leak(monkeypatch, diced=False)
    exact = sum(count for count, mean in cells if mean in (0.0, 1.0))
    assert exact > 0.7 * sum(count for count, _ in cells)


@pytest.mark.parametrize("scheme, per_and", [("three-halves", 197), ("half-gates", 256)])
def test_bits_per_and_in_memory_match_the_wire(scheme, per_and):
    lin = _and_gates(5)
    gc = G.garble(lin, 7, 1, scheme=scheme)[0]
    assert gc.scheme == scheme
    assert 8 * gc.tables[0].nbytes // 7 + gc.control.shape[0] == per_and

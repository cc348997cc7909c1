"""The batched hash, the tweak layouts and the half-gates tables against block-by-block
reference code (three-halves: test_three_halves.py)."""
import hashlib
import os

import numpy as np

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc.hash import FIXED_KEY, TweakHash, hash_reference
from veil.backends.yao.gc.tweaks import gate_offsets, instance_counters, tweak
from veil.circuits.builder import Builder
from veil.circuits.linear import linearise


def _xor(*blocks: bytes) -> bytes:
    return bytes(np.bitwise_xor.reduce([np.frombuffer(b, np.uint8) for b in blocks]))


def _times(bit: int, block: bytes) -> bytes:
    return block if bit else bytes(16)


def test_fixed_key_is_the_documented_constant():
    assert FIXED_KEY == hashlib.sha256(b"veil/yao/fixed-key-aes/v1").digest()[:16]


def test_batched_hash_matches_the_reference():
    x = np.frombuffer(os.urandom(6 * 5 * 16), np.uint8).view("<u8").reshape(6, 5, 2).copy()
    t = np.frombuffer(os.urandom(3 * 5 * 16), np.uint8).view("<u8").reshape(3, 5, 2).copy()
    h = TweakHash(64).hash(x, t).copy()
    for r in range(6):
        for k in range(5):
            i = int(t[r % 3, k, 1]) << 64 | int(t[r % 3, k, 0])
            assert h[r, k].tobytes() == hash_reference(x[r, k].tobytes(), i)


def test_halves_are_word_0_and_the_control_byte_of_the_hash():
    """bind(..., halves=True): three-halves' half-hash (word 0) and control bit (bit 0 of
    word 1, in byte 8), contiguous, equal to the full hash's."""
    x = np.frombuffer(os.urandom(4 * 3 * 16), np.uint8).view("<u8").reshape(4, 3, 2).copy()
    t = np.frombuffer(os.urandom(2 * 3 * 16), np.uint8).view("<u8").reshape(2, 3, 2).copy()
    full = TweakHash(64).hash(x, t).copy()
    run, (hw, hb) = TweakHash(64).bind(x, t, halves=True)
    run()
    assert hw.flags.c_contiguous and hb.flags.c_contiguous and hw.shape == hb.shape == (4, 3)
    assert np.array_equal(hw, full[..., 0])
    assert np.array_equal(hb & 1, (full[..., 1] & 1).astype(np.uint8))


def test_tweak_words_follow_the_layout():
    ctr = instance_counters(first_instance=1000, n=3, and_count=7)
    off = gate_offsets(np.array([4, 5]))
    for k in range(3):
        for r, (gate, half) in enumerate([(4, 0), (5, 0), (4, 1), (5, 1)]):
            assert int(ctr[k] + off[r]) == tweak(0, 1000 + k, 7, gate, half)


def test_three_tweaks_per_gate_for_three_halves():
    """Slots 0, 1, 2 (the A, B and A xor B hashes): 3 (instance * and_count + gate) + slot."""
    ctr = instance_counters(first_instance=1000, n=3, and_count=7, per_gate=3)
    off = gate_offsets(np.array([4, 5]), per_gate=3)
    order = [(4, 0), (5, 0), (4, 1), (5, 1), (4, 2), (5, 2)]
    for k in range(3):
        for r, (gate, slot) in enumerate(order):
            want = tweak(0, 1000 + k, 7, gate, slot, per_gate=3)
            assert int(ctr[k] + off[r]) == want == 3 * ((1000 + k) * 7 + gate) + slot


def test_single_and_gate_matches_textbook_half_gates():
    """Tables, decoding bits and output labels of one AND gate, recomputed per instance
    with the scalar formulas of Zahur-Rosulek-Evans and the reference hash."""
    b = Builder()
    x, y = b.input("a", 1), b.input("b", 1)
    b.output("z", [b.and_(x[0], y[0])])
    lin = linearise(b.build())
    a_val, b_val = [0, 0, 1, 1], [0, 1, 0, 1]
    gc, sec = G.garble(lin, 4, tweak_base=0xABCDEF, first_instance=40, scheme="half-gates")
    R = sec.delta.tobytes()
    labels = {"a": G.input_labels(sec, "a", a_val), "b": G.label_pairs(sec, "b")}
    labels["b"] = np.where(np.array(b_val)[None, :, None] == 1, labels["b"][1], labels["b"][0])
    out = G.evaluate(lin, gc, labels)["z"]
    for k in range(4):
        A0, B0 = (sec.zero_labels[w][0, k].tobytes() for w in "ab")
        A1, B1 = _xor(A0, R), _xor(B0, R)
        pa, pb = A0[0] & 1, B0[0] & 1
        j, j2 = (tweak(0xABCDEF, 40 + k, 1, 0, half) for half in (0, 1))
        TG = _xor(hash_reference(A0, j), hash_reference(A1, j), _times(pb, R))
        WG0 = _xor(hash_reference(A0, j), _times(pa, TG))
        TE = _xor(hash_reference(B0, j2), hash_reference(B1, j2), A0)
        WE0 = _xor(hash_reference(B0, j2), _times(pb, _xor(TE, A0)))
        C0 = _xor(WG0, WE0)
        assert gc.tables[0, 0, k].tobytes() == TG and gc.tables[0, 1, k].tobytes() == TE
        assert gc.decoding["z"][0, k] == C0[0] & 1
        assert out[0, k].tobytes() == _xor(C0, _times(a_val[k] & b_val[k], R))
    assert G.decode(gc, {"z": out})["z"].tolist() == [0, 0, 0, 1]

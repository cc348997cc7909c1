"""The corrections the user decrypts: E decrypts to A = pack(W s - b + m), whose masks m
hide W s - b slot by slot for any weights, bias and s the formats allow."""
import pytest

from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.packed.slots import pack_blocks

from .packed_security_kit import (BATCHES, KAPPA, PATCHES, all_of, assert_hides, assert_spread,
                                 correction_values, cts_under, low_bits_hits, normalised,
                                 user_secrets)

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def test_user_decrypts_exactly_pack_of_masked_corrections(run):
    """Every E frame decrypts to pack(W s - b + m) with the cloud's own s and m; m is at least
    2^mask_floor_bits, above every |W s - b|, below 2^(floor + kappa), distinct and spread
    over its kappa bits (pooled per layer over both batches)."""
    sk_u = run["sk_u"]
    pooled = []
    for i, (b, per_layer) in enumerate(zip(run["batches"], correction_values(run))):
        E = cts_under(run["user"], run["pk_u"], f"prepare{i}")
        assert len(E) == len(run["layers"])
        for k, (layer, sh, (cs, m)) in enumerate(zip(run["layers"], run["shapes"], per_layer)):
            A = P.decrypt(sk_u, E[k])
            want = [blk for p in range(PATCHES) for blk in
                    pack_blocks([c + mi for c, mi in zip(cs[p], m[p])], sh.slot_bits, sh.slots)]
            assert A == want, f"layer {k + 1}: E is not pack(W s - b + m)"
            f = sh.mask_floor_bits
            assert max(abs(c) for row in cs for c in row) < 1 << f
            pooled += normalised([v for row in m for v in row], f)
    assert_spread(pooled, "m")


def test_mask_floor_covers_the_worst_case(run):
    """2^mask_floor_bits exceeds |W s - b| for any weights, biases and masks s the formats
    allow, not just this run's."""
    for layer, sh in zip(run["layers"], run["shapes"]):
        worst = 1 << (layer.acc_bits - 1)                  # |b| shifted to the accumulator
        if not sh.first:
            worst += sh.n_in * (1 << (sh.weight_bits - 1)) * ((1 << (sh.input_bits + KAPPA)) - 1)
        assert worst < 1 << sh.mask_floor_bits


def test_corrections_reveal_nothing(run):
    """Every slot of A is consistent with every plain part |W s - b| < 2^floor (so with any
    weights, bias and s): for any other plain part c', m' = m + c - c' is another possible
    mask giving the same A, slot by slot, so A does not depend on W s - b. With slots that
    overlap (layers 2 and 3: correction_bits > slot_bits) this still holds for the packed
    integer, since each m_i is independent."""
    for b, per_layer in zip(run["batches"], correction_values(run)):
        for k, (sh, (cs, m)) in enumerate(zip(run["shapes"], per_layer)):
            slots = [c + mi for cr, mr in zip(cs, m) for c, mi in zip(cr, mr)]
            f = sh.mask_floor_bits
            assert_hides(slots, f + 1, f, f"layer {k + 1}: A's slots")
            assert low_bits_hits(slots, [c for cr in cs for c in cr], f + 1) == 0


def test_corrections_never_show_a_secret(run):
    """Read A as the user could: the whole integer, each slot at slot_bits and at
    correction_bits width, its low slot_bits: never a weight, bias, R, s, m, W s - b,
    pre-activation or activation."""
    secrets = user_secrets(run) - all_of(run, "m")   # a slot of c + m is m when c = 0
    for i in range(BATCHES):
        for sh, cts in zip(run["shapes"], cts_under(run["user"], run["pk_u"], f"prepare{i}")):
            for i_a, a in enumerate(P.decrypt(run["sk_u"], cts)):
                reads = {a, a % (1 << sh.slot_bits)}
                for j in range(min(sh.slots, sh.n_out - i_a % sh.blocks * sh.slots)):
                    reads |= {(a >> (sh.slot_bits * j)) % (1 << sh.slot_bits),
                              (a >> (sh.slot_bits * j)) % (1 << sh.correction_bits)}
                assert not reads & secrets

"""The cloud's clear view: what it decodes from D is x + r_c per slot, with masks r_c fresh
per batch and spread over their kappa bits."""
import numpy as np
import pytest

from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.packed.slots import pack_blocks, unpack_blocks

from .packed_security_kit import (PATCHES, assert_hides, assert_spread, cts_under, low_bits_hits,
                                 normalised)

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def test_cloud_decodes_exactly_x_plus_fresh_rc(run):
    """Decrypt every D frame the cloud received with sk_c and add back pack(m): the slots are
    x + r_c (what the cloud's decoder returned), with masks r_c = value - x in
    [2^acc, 2^(acc + kappa)), distinct, spread over the kappa-bit range."""
    sk_c, n_c = run["sk_c"], run["pk_c"].n
    pooled = []
    for i, b in enumerate(run["batches"]):
        D = cts_under(run["cloud"], run["pk_c"], f"online{i}")
        assert len(D) == len(run["layers"])
        for k, (layer, sh) in enumerate(zip(run["layers"], run["shapes"])):
            plain = P.decrypt(sk_c, D[k])
            masks_m = [v for row in b["m"][k] for v in pack_blocks(row, sh.slot_bits, sh.slots)]
            seen = []
            for p in range(PATCHES):
                blk = slice(p * sh.blocks, (p + 1) * sh.blocks)
                seen.append(unpack_blocks([(a + c) % n_c for a, c in zip(plain[blk], masks_m[blk])],
                                          sh.slot_bits, sh.slots, sh.n_out))
            assert seen == b["decoded"][k]
            masks = np.array(seen, dtype=object) - run["accs"][k].astype(object)
            assert (masks == np.array(b["r_c"][k], dtype=object)).all()
            pooled += normalised(masks.ravel(), sh.acc_bits)      # checks [2^acc, 2^(acc+kappa))
            assert int(np.abs(run["accs"][k]).max()) < 1 << (sh.acc_bits - 1)
            assert_hides([v for row in seen for v in row], sh.acc_bits, sh.acc_bits,
                         f"layer {k + 1}: x + r_c")
            assert low_bits_hits([v for row in seen for v in row],
                                 [int(v) for v in run["accs"][k].ravel()], sh.acc_bits) == 0
    assert_spread(pooled, "r_c")                   # over layers and batches: 136 masks


def test_cloud_view_is_fresh_per_batch(run):
    """The same patches twice: every value the cloud decodes differs between the batches,
    and no mask r_c is reused anywhere."""
    a, b = (bt["decoded"] for bt in run["batches"])
    for k in range(len(run["layers"])):
        va = [v for row in a[k] for v in row]
        vb = [v for row in b[k] for v in row]
        assert not set(va) & set(vb), f"layer {k + 1}: the cloud saw a value twice"
    all_rc = [v for bt in run["batches"] for r in bt["r_c"] for row in r for v in row]
    assert len(set(all_rc)) == len(all_rc)

"""The garbled outputs the user decodes: y' = t + s, each activation t masked by the cloud's
fresh s on the next layer's input."""
import numpy as np
import pytest

from .packed_security_kit import (all_of, assert_hides, assert_spread, low_bits_hits,
                                 normalised, user_secrets)

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def test_user_decodes_only_masked_activations(run):
    """The garbled circuits give the user y' = t + s with s the cloud's mask on the next
    layer's input: s in [2^l_a, 2^(l_a + kappa)), distinct, spread, fresh per batch; no y'
    is a secret, each is consistent with every activation value, and y' mod 2^l_a is no
    better a guess of t than chance."""
    secrets = user_secrets(run) - all_of(run, "s")   # y' = s when t = 0
    pooled, hits, total = [], 0, 0
    for b in run["batches"]:
        assert len(b["y_masked"]) == len(run["acts"])
        for k, (ys, t) in enumerate(zip(b["y_masked"], run["acts"])):
            s = b["s"][k + 1]
            masks = np.array(ys, dtype=object).reshape(t.shape) - t.astype(object)
            assert (masks == np.array(s, dtype=object)).all()
            assert not set(ys) & secrets
            sh = run["shapes"][k + 1]
            pooled += normalised(masks.ravel(), sh.input_bits)
            assert_hides(ys, sh.input_bits, sh.input_bits, f"act{k + 1}: y'")
            hits += low_bits_hits(ys, [int(v) for v in t.ravel()], sh.input_bits)
            total += len(ys)
    assert hits <= 5, f"{hits} activations read off y' mod 2^l_a (chance {total} / 2^10)"
    assert_spread(pooled, "s")

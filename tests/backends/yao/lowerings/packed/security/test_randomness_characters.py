"""The randomness of the products D as the key owner (the cloud) sees it, character by
character: its cubic characters must look uniform whatever the user's input, with full
exponentiations and with subset products of a pool."""
import numpy as np
import pytest

from veil.backends.yao import paillier as P

from .packed_security_kit import BATCHES, PATCHES, cts_under

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def cubic_log(z: int, prime: int) -> int:
    """The cubic character of z mod a prime = 1 mod 3, as an exponent in Z_3 (a fixed
    nontrivial cube root of unity as base): what anyone knowing the prime computes."""
    e = (prime - 1) // 3
    omega = next(pow(g, e, prime) for g in range(2, 1000) if pow(g, e, prime) != 1)
    return {1: 0, omega: 1, omega * omega % prime: 2}[pow(int(z) % prime, e, prime)]


@pytest.mark.parametrize("which", ["run", "subset_run"])
def test_products_randomness_is_uniform_to_the_cloud(which, request):
    """The cloud holds sk_c, so it recovers D's randomness r_D = prod_j rho_kj^(e_j) * r_F and,
    knowing p and q, computes its characters mod small primes l | p - 1 (here l = 3, the
    setting's key has 3 | p - 1 and 3 | q - 1). It knows rho_kj (its own Enc_c(-R)), so for a
    candidate input e the leftover w = chi(r_D) - sum_j e_j chi(rho_kj) in Z_3^2 must be
    uniform whatever e is, which only a fresh factor uniform over the n-th residues gives.
    If instead w stays on a line through 0 (the characters of a fixed h, times sigma), the
    cloud reads sum_j e_j chi(rho_kj) mod 3 off every D up to one unknown per session (and
    exactly when h is a cube mod p or q): a linear function of the patch, or of the hidden
    activations, per block ciphertext. Checked with full exponentiations (short jobs) and with
    subset products of a pool (long jobs, subset_noise.py)."""
    run = request.getfixturevalue(which)
    assert run["subset_pools"] == ((True, True) if which == "subset_run" else (False, False))
    sk = run["sk_c"]
    primes = (int(sk.p), int(sk.q))
    assert all((pr - 1) % 3 == 0 for pr in primes)
    rho = [[P.recover_randomness(sk, c) for c in cts]
           for cts in cts_under(run["user"], run["pk_c"], "setup")]
    chi_rho = [[[cubic_log(r, pr) for r in layer] for pr in primes] for layer in rho]
    leftovers = []
    for i, b in enumerate(run["batches"]):
        D = cts_under(run["cloud"], run["pk_c"], f"online{i}")
        exps = [run["x"].tolist()] + [np.array(y, dtype=object).reshape(PATCHES, -1).tolist()
                                      for y in b["y_masked"]]
        for k, (cts, sh) in enumerate(zip(D, run["shapes"])):
            for p_ in range(PATCHES):
                for blk in range(sh.blocks):
                    r = P.recover_randomness(sk, cts[p_ * sh.blocks + blk])
                    leftovers.append(tuple(
                        (cubic_log(r, pr) - sum(int(e) * c for e, c in zip(
                            exps[k][p_], chi_rho[k][t][blk * sh.n_in:(blk + 1) * sh.n_in]))) % 3
                        for t, pr in enumerate(primes)))
    assert len(leftovers) == BATCHES * PATCHES * sum(sh.blocks for sh in run["shapes"])
    # uniform over Z_3^2: 40 draws hit at least 5 of the 9 values but with p < 1e-12
    assert len(set(leftovers)) >= 5, f"D's randomness confined to {sorted(set(leftovers))}"

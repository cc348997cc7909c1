"""The `paper` lowering's linear layer: Erkin et al. encrypted multiplication, batched.

For every product W*y of a layer (both only encrypted under the user's key, at the cloud):
  cloud: a, b uniform mod n (perfectly hiding); sends Enc(W + a), Enc(y + b), rerandomised
  user:  decrypts both, multiplies mod n, returns a fresh Enc((W + a)(y + b))
  cloud: Enc(W y) = Enc((W+a)(y+b)) * Enc(y)^-a * Enc(W)^-b * Enc(-ab)
All products of a layer travel in one message each way. Costs per product: the user two
decryptions and one encryption; the cloud two full-length exponentiations (that is why the
seed paper's prototype needed 68.8 ms per product at the cloud).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Sequence

import gmpy2
from gmpy2 import mpz

from veil.backends.yao import paillier as P


@dataclass(frozen=True)
class ProductMasks:
    a: list[int]
    b: list[int]


def cloud_mask(pk: P.PublicKey, enc_w: Sequence[mpz], enc_y: Sequence[mpz],
               noise: P.NoiseSource | None = None) -> tuple[list[mpz], ProductMasks]:
    """The request to the user: Enc(W + a) for every product, then Enc(y + b)."""
    n, n2 = pk.n, pk.nsquare
    a = [secrets.randbelow(int(n)) for _ in enc_w]
    b = [secrets.randbelow(int(n)) for _ in enc_y]
    masked = [c * (1 + m * n) % n2 for c, m in zip(list(enc_w) + list(enc_y), a + b)]
    return P.rerandomise_all(pk, masked, noise), ProductMasks(a, b)


def user_multiply(sk: P.PrivateKey, request: Sequence[mpz],
                  noise: P.NoiseSource | None = None) -> list[mpz]:
    """Decrypt the masked factors, multiply them mod n, return fresh encryptions."""
    if len(request) % 2:
        raise ValueError("a product request holds an even number of ciphertexts")
    plain = P.decrypt(sk, request)
    k = len(plain) // 2
    n = sk.public.n
    return P.encrypt(sk.public, [plain[i] * plain[k + i] % n for i in range(k)], noise)


def cloud_unmask(pk: P.PublicKey, replies: Sequence[mpz], enc_w: Sequence[mpz],
                 enc_y: Sequence[mpz], masks: ProductMasks) -> list[mpz]:
    """Enc(W y) per product. Not rerandomised: these are summed and masked further
    before anything derived from them is sent."""
    if not (len(replies) == len(enc_w) == len(enc_y) == len(masks.a)):
        raise ValueError("product reply count does not match the request")
    n, n2 = pk.n, pk.nsquare
    out = []
    for r, cw, cy, a, b in zip(replies, enc_w, enc_y, masks.a, masks.b):
        ab = (-a * b) % n
        out.append(r * gmpy2.powmod(cy, -a, n2) % n2 * gmpy2.powmod(cw, -b, n2) % n2
                   * (1 + ab * n) % n2)
    return out


def accumulate(pk: P.PublicKey, products: Sequence[mpz], enc_bias: Sequence[mpz],
               n_in: int) -> list[mpz]:
    """Row sums: products laid out row-major (n_out x n_in) per patch, then the bias."""
    n2 = pk.nsquare
    n_out = len(enc_bias)
    if len(products) % (n_out * n_in):
        raise ValueError("product count is not a whole number of patches")
    out = []
    for start in range(0, len(products), n_in):
        acc = enc_bias[(start // n_in) % n_out]
        for c in products[start:start + n_in]:
            acc = acc * c % n2
        out.append(mpz(acc))
    return out

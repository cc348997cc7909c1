"""The `paper` lowering's Paillier steps around a hidden layer's garbled activation
(protocol.py, "hidden"), as pure functions: PaperCloud and PaperUser run them, and the
benchmarks time these same functions rather than a copy of them.

  cloud  Enc(x + r_c), r_c uniform in [2^acc, 2^(acc + kappa)), rerandomised
                                                             cloud_mask_accumulators
  user   x + r_c, decrypted and range-checked: the garbled circuit's input
                                                             user_masked_accumulators
  cloud  Enc(t) = Enc(y') * Enc(r_u)^-1, with y' = t + r_u from the circuit
                                                             cloud_activation_output
"""
from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import ProtocolError
from veil.backends.yao.lowerings.garbled_activation import uniform_mask


def cloud_mask_accumulators(pk: P.PublicKey, acc: Sequence[mpz], acc_bits: int, kappa: int,
                            noise: P.NoiseSource | None = None) -> tuple[list[mpz], list[int]]:
    """(Enc(x + r_c) rerandomised, r_c): the user, the key owner, sees x only masked."""
    n, n2 = pk.n, pk.nsquare
    r_c = [uniform_mask(acc_bits, kappa) for _ in acc]
    masked = [c * (1 + r * n) % n2 for c, r in zip(acc, r_c)]
    return P.rerandomise_all(pk, masked, noise), r_c


def user_masked_accumulators(sk: P.PrivateKey, cts: Sequence[mpz], acc_bits: int,
                             kappa: int) -> list[int]:
    """x + r_c; anything wider than the circuit's input is refused, not truncated."""
    x_masked = P.decrypt(sk, cts)
    bound = 1 << (acc_bits + kappa + 1)
    if any(v >= bound for v in x_masked):
        raise ProtocolError("masked accumulator out of range")
    return x_masked


def cloud_activation_output(pk: P.PublicKey, y_masked: Sequence[int],
                            enc_ru: Sequence[mpz]) -> list[mpz]:
    """Enc(t) per activation. Enc(y') with unit randomness is fine: it is never sent, only
    masked and rerandomised inside the next Erkin request."""
    n, n2 = pk.n, pk.nsquare
    return [(1 + y * n) * gmpy2.invert(c, n2) % n2 for y, c in zip(y_masked, enc_ru)]

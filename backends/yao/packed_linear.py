"""The `packed` lowering's dense layer as pure functions (PROTOCOL.md, lowering 2).

Keys: u is the user's Paillier key, c the cloud's. Per layer (shapes: packed_shapes.py):
  owner    P_kj = Enc_u(pack_s(W[block k, j])), Enc_u(pack_s(b))      publish_columns, _bias
  provisioning, once per model and user:
    cloud  R in [2^l_w, 2^(l_w+kappa)); Enc_u(pack(W + R)) rerandomised  masked_columns
           Enc_c(pack_s'(R[:, j]))                                     encrypt_wide_masks
    user   V = W + R                                                   unmask_columns
  offline, per patch (masks r known, image not):
    user   Enc_c(pack_s'(R r + m)) by multi-exp over Enc_c(R), and Enc_u(pack_s(V r + m))
                                                                       user_offline
    cloud  T = R r + m;  K = Enc_u(pack(V r + m) - pack(T)) = Enc_u(pack(W r));
           keeps C = K^-1 * Enc_u(pack b) * fresh Enc_u(pack r_c)      cloud_offline
  online, per patch: user sends y' = y + r in the clear
    cloud  prod_j P_kj^(y'_j) * C_k = Enc_u(pack(W y + b + r_c))       cloud_online
    user   decrypts, unpacks x' = x + r_c (or q, signed, for the last layer)  user_decode
C_k carries a fresh encryption and is used once, so every online ciphertext is rerandomised;
folding b, r_c and the fresh factor into C moves all of the cloud's exponentiations offline.
"""
from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.garbled_activation import uniform_mask
from veil.backends.yao.packed_shapes import PackedShapes
from veil.backends.yao.packed_slots import pack_blocks, unpack_blocks
from veil.compiler.model import Layer

Matrix = list[list[int]]            # rows of Python integers (beyond int64 once masked)


def _columns(M: Sequence[Sequence[int]], slot_bits: int, slots: int) -> Matrix:
    """[k][j] = pack of column j over block k."""
    cols = [pack_blocks([row[j] for row in M], slot_bits, slots) for j in range(len(M[0]))]
    return [list(per_block) for per_block in zip(*cols)]


def _check(count: int, want: int, what: str) -> None:
    if count != want:
        raise ValueError(f"expected {want} {what}, got {count}")


# -- owner ------------------------------------------------------------------------------------
def publish_columns(pk_u: P.PublicKey, layer: Layer, sh: PackedShapes,
                    noise: P.NoiseSource | None = None) -> list[list[mpz]]:
    plain = _columns(layer.weights.tolist(), sh.slot_bits, sh.slots)
    return [P.encrypt(pk_u, [m % pk_u.n for m in row], noise) for row in plain]


def publish_bias(pk_u: P.PublicKey, layer: Layer, sh: PackedShapes,
                 noise: P.NoiseSource | None = None) -> list[mpz]:
    """Enc_u(pack(b)) per block, b shifted to the accumulator's fixed point as the plaintext
    reference adds it. Encrypted: the bias is part of the model, hidden from the cloud."""
    shift = layer.acc_frac - layer.bias_format.frac
    plain = pack_blocks([int(b) << shift for b in layer.bias], sh.slot_bits, sh.slots)
    return P.encrypt(pk_u, [m % pk_u.n for m in plain], noise)


# -- provisioning -----------------------------------------------------------------------------
def draw_weight_masks(sh: PackedShapes) -> Matrix:
    """R >= 2^l_w keeps every slot of V = W + R positive (and never a weight value)."""
    return [[uniform_mask(sh.weight_bits, sh.kappa) for _ in range(sh.n_in)]
            for _ in range(sh.n_out)]


def masked_columns(pk_u: P.PublicKey, columns: list[list[mpz]], R: Matrix, sh: PackedShapes,
                   noise: P.NoiseSource | None = None) -> list[mpz]:
    """Enc_u(pack(W + R)) row-major over [k][j], rerandomised (it goes to the key owner)."""
    packed_R = _columns(R, sh.slot_bits, sh.slots)
    sums = [P.add_plain(pk_u, c, r) for cs, rs in zip(columns, packed_R) for c, r in zip(cs, rs)]
    return P.rerandomise_all(pk_u, sums, noise)


def encrypt_wide_masks(pk_c: P.PublicKey, R: Matrix, sh: PackedShapes,
                       noise: P.NoiseSource | None = None) -> list[mpz]:
    """Enc_c(pack_s'(R)) row-major over [k'][j]."""
    plain = _columns(R, sh.wide_bits, sh.wide_slots)
    return P.encrypt(pk_c, [m for row in plain for m in row], noise)


def unmask_columns(sk_u: P.PrivateKey, cts: Sequence[mpz], sh: PackedShapes) -> Matrix:
    """V = W + R from the masked columns: the user's only view of the weights."""
    _check(len(cts), sh.blocks * sh.n_in, "masked weight ciphertexts")
    plain = P.decrypt(sk_u, cts)
    cols = [unpack_blocks(plain[j::sh.n_in], sh.slot_bits, sh.slots, sh.n_out)
            for j in range(sh.n_in)]
    return [list(row) for row in zip(*cols)]


def _wide_rows(cts: Sequence[mpz], sh: PackedShapes) -> list[list[mpz]]:
    _check(len(cts), sh.wide_blocks * sh.n_in, "wide mask ciphertexts")
    return [list(cts[k * sh.n_in:(k + 1) * sh.n_in]) for k in range(sh.wide_blocks)]


# -- offline, per patch -----------------------------------------------------------------------
def draw_input_masks(sh: PackedShapes, patches: int) -> Matrix:
    return [[uniform_mask(sh.input_bits, sh.kappa) for _ in range(sh.n_in)]
            for _ in range(patches)]


def user_offline(pk_c: P.PublicKey, pk_u: P.PublicKey, enc_R: Sequence[mpz], V: Matrix,
                 masks: Matrix, sh: PackedShapes, noise_u: P.NoiseSource | None = None
                 ) -> tuple[list[mpz], list[mpz]]:
    """Per patch: Enc_c(pack_s'(R r + m)) (wide blocks) and Enc_u(pack_s(V r + m)) (blocks).
    The Enc_c factor is a fresh cloud-key encryption, so the cloud's decryption reveals
    R r + m and its randomness nothing about r."""
    rows = _wide_rows(enc_R, sh)
    wide, narrow = [], []
    for r in masks:
        _check(len(r), sh.n_in, "mask entries")
        m = [uniform_mask(sh.rr_bits, sh.kappa) for _ in range(sh.n_out)]
        fresh = P.encrypt(pk_c, pack_blocks(m, sh.wide_bits, sh.wide_slots))
        wide += [P.multi_exp(pk_c, row, r) * f % pk_c.nsquare for row, f in zip(rows, fresh)]
        vr = [sum(v * x for v, x in zip(row, r)) + mi for row, mi in zip(V, m)]
        narrow += P.encrypt(pk_u, [b % pk_u.n for b in pack_blocks(vr, sh.slot_bits, sh.slots)],
                            noise_u)
    return wide, narrow


def cloud_offline(sk_c: P.PrivateKey, pk_u: P.PublicKey, wide: Sequence[mpz],
                  narrow: Sequence[mpz], enc_bias: Sequence[mpz], r_c: Matrix | None,
                  sh: PackedShapes, noise_u: P.NoiseSource | None = None) -> list[list[mpz]]:
    """Corrections C[p][k] = Enc_u(pack(b + r_c - W r)), with a fresh Enc_u(pack(r_c)) factor
    (Enc_u(0) for the output layer, r_c None): each C[p][k] is used for one patch only."""
    patches = len(wide) // sh.wide_blocks
    _check(len(wide), patches * sh.wide_blocks, "wide ciphertexts")
    _check(len(narrow), patches * sh.blocks, "narrow ciphertexts")
    _check(len(enc_bias), sh.blocks, "bias ciphertexts")
    if r_c is not None:
        _check(len(r_c), patches, "patches of r_c")
    plain = P.decrypt(sk_c, wide)
    n2, out = pk_u.nsquare, []
    for p in range(patches):
        T = unpack_blocks(plain[p * sh.wide_blocks:(p + 1) * sh.wide_blocks],
                          sh.wide_bits, sh.wide_slots, sh.n_out)
        add = [0] * sh.n_out if r_c is None else r_c[p]
        fresh = P.encrypt(pk_u, pack_blocks(add, sh.slot_bits, sh.slots), noise_u)
        Ks = [P.add_plain(pk_u, c, -t) for c, t in
              zip(narrow[p * sh.blocks:(p + 1) * sh.blocks],
                  pack_blocks(T, sh.slot_bits, sh.slots))]
        out.append([gmpy2.invert(k, n2) * b % n2 * f % n2
                    for k, b, f in zip(Ks, enc_bias, fresh)])
    return out


def draw_accumulator_masks(sh: PackedShapes, patches: int) -> Matrix:
    return [[uniform_mask(sh.acc_bits, sh.kappa) for _ in range(sh.n_out)]
            for _ in range(patches)]


# -- online, per patch ------------------------------------------------------------------------
def cloud_online(pk_u: P.PublicKey, columns: list[list[mpz]], y_masked: Matrix,
                 corrections: list[list[mpz]], sh: PackedShapes) -> list[mpz]:
    """Enc_u(pack(x + r_c)) per patch and block: one multi-exponentiation over the columns."""
    _check(len(corrections), len(y_masked), "patches of corrections")
    bound, out = 1 << (sh.input_bits + sh.kappa + 1), []
    for y, cs in zip(y_masked, corrections):
        _check(len(y), sh.n_in, "masked inputs")
        if not all(0 <= v < bound for v in y):
            raise ValueError("masked input out of range")
        out += [P.multi_exp(pk_u, col, y) * c % pk_u.nsquare for col, c in zip(columns, cs)]
    return out


def user_decode(sk_u: P.PrivateKey, cts: Sequence[mpz], sh: PackedShapes, signed: bool
                ) -> Matrix:
    """x' = x + r_c per patch (non-negative slots), or the signed output q."""
    if len(cts) % sh.blocks:
        raise ValueError(f"{len(cts)} ciphertexts are not whole patches of {sh.blocks} blocks")
    plain, n = P.decrypt(sk_u, cts), sk_u.public.n
    return [unpack_blocks(plain[i:i + sh.blocks], sh.slot_bits, sh.slots, sh.n_out,
                          n if signed else None)
            for i in range(0, len(plain), sh.blocks)]

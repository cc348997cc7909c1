"""The `packed` lowering's dense layer as pure functions (docs/protocol.md, "packed").

Keys: u is the user's Paillier key, c the cloud's. pack() puts rows in slots of one layer's
PackedLayout; packing is linear, so every identity below holds slot by slot. Per layer:

  owner    P_kj = Enc_u(pack W[block k, j]), Enc_u(pack b)            publish_columns, _bias
  provisioning, once per model and user:
    cloud  R in [2^l_w, 2^(l_w+kappa)); Enc_u(pack(W + R)) rerandomised  masked_columns
           Enc_c(pack(-R))                                             negated_masks
    user   V = W + R;  Q_kj = Enc_c(pack V_kj) * Enc_c(pack(-R))_kj = Enc_c(pack W)
                                                                       unmask_columns, user_columns
  offline, per patch (image unknown):
    cloud  E_k = prod_j P_kj^(s_j) * fresh Enc_u(pack m) * Enc_u(pack b)^-1
               = Enc_u(pack(W s - b + m)), s its mask on this layer's input (none on layer 1)
                                                                       cloud_corrections
    user   A = pack(W s - b + m) (decrypted, an integer);  F_k = fresh Enc_c(pack(r_c) - A_k)
                                                                       user_corrections
  online, per patch:
    user   D_k = prod_j Q_kj^(e_j) * F_k = Enc_c(pack(W y + b + r_c - m)), e = y + s
           (layer 1: e = the patch itself)                             user_products
    cloud  decrypts, adds pack(m): x + r_c per slot                    cloud_decode
The cloud sees x + r_c (the user's fresh mask); the user sees V once, A (the cloud's fresh
slot mask m), and y + s (the cloud's activation mask, from the garbled circuit). Every
ciphertext one party sends the other carries a fresh encryption factor.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import gmpy2
from gmpy2 import mpz

from veil.backends.executor import Executor
from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.garbled_activation import uniform_mask
from veil.backends.yao.paillier import pooled as pool
from veil.backends.yao.paillier.pooled import FixedBases
from veil.compiler.packed_layout import PackedLayout
from veil.backends.yao.lowerings.packed.slots import pack_blocks, unpack_blocks
from veil.compiler.model import Layer
from veil.util.errors import ProtocolError

Matrix = list[list[int]]            # rows of Python integers (beyond int64 once masked)


def pack_columns(M: Sequence[Sequence[int]], sh: PackedLayout) -> Matrix:
    """[k][j] = pack of column j over block k."""
    cols = [pack_blocks([row[j] for row in M], sh.slot_bits, sh.slots) for j in range(len(M[0]))]
    return [list(per_block) for per_block in zip(*cols)]


def _check(count: int, want: int, what: str) -> None:
    if count != want:
        raise ValueError(f"expected {want} {what}, got {count}")


def _rows(cts: Sequence[mpz], sh: PackedLayout, what: str) -> list[list[mpz]]:
    _check(len(cts), sh.blocks * sh.n_in, what)
    return [list(cts[k * sh.n_in:(k + 1) * sh.n_in]) for k in range(sh.blocks)]


# -- owner ------------------------------------------------------------------------------------
def publish_columns(pk_u: P.PublicKey, layer: Layer, sh: PackedLayout,
                    noise: P.NoiseSource | None = None,
                    progress: Callable[[int], None] = lambda n: None) -> list[list[mpz]]:
    """[k][j] = Enc_u(pack W[block k, j]); `progress(count)` after each block."""
    out = []
    for row in pack_columns(layer.weights.tolist(), sh):
        out.append(P.encrypt(pk_u, [m % pk_u.n for m in row], noise))
        progress(len(row))
    return out


def publish_bias(pk_u: P.PublicKey, layer: Layer, sh: PackedLayout,
                 noise: P.NoiseSource | None = None) -> list[mpz]:
    """Enc_u(pack(b)) per block, b shifted to the accumulator's fixed point as the plaintext
    reference adds it. Encrypted: the bias is part of the model, hidden from the cloud."""
    shift = layer.acc_frac - layer.bias_format.frac
    plain = pack_blocks([int(b) << shift for b in layer.bias], sh.slot_bits, sh.slots)
    return P.encrypt(pk_u, [m % pk_u.n for m in plain], noise)


# -- provisioning -----------------------------------------------------------------------------
def draw_weight_masks(sh: PackedLayout) -> Matrix:
    """R >= 2^l_w keeps every slot of V = W + R positive (and never a weight value)."""
    return [[uniform_mask(sh.weight_bits, sh.kappa) for _ in range(sh.n_in)]
            for _ in range(sh.n_out)]


def masked_columns(pk_u: P.PublicKey, columns: list[list[mpz]], R: Matrix, sh: PackedLayout,
                   noise: P.NoiseSource | None = None) -> list[mpz]:
    """Enc_u(pack(W + R)) row-major over [k][j], rerandomised (it goes to the key owner)."""
    packed_R = pack_columns(R, sh)
    sums = [P.add_plain(pk_u, c, r) for cs, rs in zip(columns, packed_R) for c, r in zip(cs, rs)]
    return P.rerandomise_all(pk_u, sums, noise)


def negated_masks(pk_c: P.PublicKey, R: Matrix, sh: PackedLayout,
                  noise: P.NoiseSource | None = None) -> list[mpz]:
    """Enc_c(pack(-R)) row-major over [k][j], under the cloud's own key."""
    return P.encrypt(pk_c, [-m % pk_c.n for row in pack_columns(R, sh) for m in row], noise)


def unmask_columns(sk_u: P.PrivateKey, cts: Sequence[mpz], sh: PackedLayout,
                   executor: Executor | None = None) -> Matrix:
    """V = W + R from the masked columns: the user's only view of the weights."""
    _check(len(cts), sh.blocks * sh.n_in, "masked weight ciphertexts")
    plain = pool.decrypt(sk_u, cts, executor)
    cols = [unpack_blocks(plain[j::sh.n_in], sh.slot_bits, sh.slots, sh.n_out)
            for j in range(sh.n_in)]
    return [list(row) for row in zip(*cols)]


def user_columns(pk_c: P.PublicKey, V: Matrix, neg_R: Sequence[mpz], sh: PackedLayout
                 ) -> list[list[mpz]]:
    """Q = Enc_c(pack W) [k][j], for the user's online products. No fresh factor: Q never
    leaves the user, and every product sent from it carries a fresh F."""
    _check(len(V), sh.n_out, "rows of V")
    n, n2 = pk_c.n, pk_c.nsquare
    return [[(1 + v % n * n) * c % n2 for v, c in zip(vs, cs)]
            for vs, cs in zip(pack_columns(V, sh), _rows(neg_R, sh, "negated mask ciphertexts"))]


# -- the exponent ranges of each party's fixed-base tables ------------------------------------
def user_exponent_range(sh: PackedLayout) -> tuple[int, int]:
    """[low, high) of the user's online exponents e over Q (user_products): the signed patch on
    layer 1; y + s on later layers, never negative since s >= 2^in exceeds |y|. The tables
    are sized by this range, so the user and the benchmarks build them from here."""
    return (-sh.exponent_bound + 1 if sh.first else 0), sh.exponent_bound


def cloud_exponent_range(sh: PackedLayout) -> tuple[int, int]:
    """[low, high) of the cloud's exponents over the packed columns (cloud_corrections): its
    input masks s, drawn by draw_input_masks from [2^in, 2^(in + kappa))."""
    return 0, 1 << (sh.input_bits + sh.kappa)


# -- offline, per patch -----------------------------------------------------------------------
def draw_input_masks(sh: PackedLayout, patches: int) -> Matrix:
    """The cloud's masks s on this layer's input: the previous garbled activation adds them."""
    return [[uniform_mask(sh.input_bits, sh.kappa) for _ in range(sh.n_in)]
            for _ in range(patches)]


def draw_slot_masks(sh: PackedLayout, patches: int) -> Matrix:
    return [[uniform_mask(sh.mask_floor_bits, sh.kappa) for _ in range(sh.n_out)]
            for _ in range(patches)]


def draw_accumulator_masks(sh: PackedLayout, patches: int) -> Matrix:
    """The user's masks r_c on this layer's accumulators (the output layer's too)."""
    return [[uniform_mask(sh.acc_bits, sh.kappa) for _ in range(sh.n_out)]
            for _ in range(patches)]


def inverted_bias(pk_u: P.PublicKey, enc_bias: Sequence[mpz], sh: PackedLayout) -> list[mpz]:
    _check(len(enc_bias), sh.blocks, "bias ciphertexts")
    return [gmpy2.invert(b, pk_u.nsquare) for b in enc_bias]


def cloud_corrections(pk_u: P.PublicKey, columns: FixedBases | None, neg_bias: Sequence[mpz],
                      s: Matrix | None, m: Matrix, sh: PackedLayout,
                      noise_u: P.NoiseSource | None = None) -> list[mpz]:
    """E[p][k] = Enc_u(pack(W s_p - b + m_p)), flat; s None for layer 1 (no input mask)."""
    n2 = pk_u.nsquare
    fresh = P.encrypt(pk_u, [v for row in m for v in pack_blocks(row, sh.slot_bits, sh.slots)],
                      noise_u)
    if s is None:
        prods = [[mpz(1)] * sh.blocks for _ in m]
    else:
        _check(len(s), len(m), "patches of input masks")
        for row in s:
            _check(len(row), sh.n_in, "input mask entries")
        prods = columns.products(s)
    out = []
    for p, row in enumerate(prods):
        out += [c * f % n2 * nb % n2 for c, f, nb in
                zip(row, fresh[p * sh.blocks:(p + 1) * sh.blocks], neg_bias)]
    return out


def correction_bounds(sh: PackedLayout) -> list[tuple[int, int]]:
    """[low, high) of A = pack(W s - b + m) per block: each slot lies in [2^(f-1), 2^(f+kappa)
    + 2^(f-1)), since m is in [2^f, 2^(f+kappa)) and |W s - b| < 2^(f-1) (f =
    mask_floor_bits), and the slots' weights 2^(s i) are positive."""
    f = sh.mask_floor_bits
    low, high = 1 << (f - 1), (1 << (f + sh.kappa)) + (1 << (f - 1))
    out = []
    for k in range(sh.blocks):
        ones = sum(1 << (sh.slot_bits * i) for i in range(min(sh.slots, sh.n_out - k * sh.slots)))
        out.append((low * ones, (high - 1) * ones + 1))
    return out


def user_corrections(sk_u: P.PrivateKey, pk_c: P.PublicKey, E: Sequence[mpz], r_c: Matrix,
                     sh: PackedLayout, noise_c: P.NoiseSource | None = None,
                     executor: Executor | None = None) -> list[mpz]:
    """F[p][k] = fresh Enc_c(pack(r_c,p) - A_pk), flat, with A = pack(W s - b + m)."""
    _check(len(E), len(r_c) * sh.blocks, "correction ciphertexts")
    A = pool.decrypt(sk_u, E, executor)
    bounds = correction_bounds(sh)
    if not all(lo <= a < hi for i, a in enumerate(A) for lo, hi in [bounds[i % sh.blocks]]):
        raise ProtocolError("a correction is outside the range of its packed slots: it does "
                            "not fit them, or a slot lies below its mask's floor")
    plain = [v for row in r_c for v in pack_blocks(row, sh.slot_bits, sh.slots)]
    return P.encrypt(pk_c, [(r - a) % pk_c.n for r, a in zip(plain, A)], noise_c)


# -- online, per patch ------------------------------------------------------------------------
def user_products(pk_c: P.PublicKey, Q: FixedBases, exponents: Matrix, F: Sequence[mpz],
                  sh: PackedLayout) -> list[mpz]:
    """D[p][k] = prod_j Q_kj^(e_pj) * F_pk = Enc_c(pack(W y + b + r_c - m)), flat."""
    _check(len(F), len(exponents) * sh.blocks, "prepared corrections")
    bound = sh.exponent_bound
    for e in exponents:
        _check(len(e), sh.n_in, "layer inputs")
        if not all(-bound < v < bound for v in e):
            raise ValueError("layer input out of range")
    n2, out = pk_c.nsquare, []
    for p, row in enumerate(Q.products(exponents)):
        out += [d * f % n2 for d, f in zip(row, F[p * sh.blocks:(p + 1) * sh.blocks])]
    return out


def cloud_decode(sk_c: P.PrivateKey, D: Sequence[mpz], m: Matrix, sh: PackedLayout,
                 executor: Executor | None = None) -> Matrix:
    """x + r_c per patch: decrypt, add back pack(m) (mod n), unpack non-negative slots."""
    _check(len(D), len(m) * sh.blocks, "products")
    plain, n = pool.decrypt(sk_c, D, executor), sk_c.public.n
    masks = [v for row in m for v in pack_blocks(row, sh.slot_bits, sh.slots)]
    return [unpack_blocks([(a + b) % n for a, b in zip(plain[i:i + sh.blocks],
                                                        masks[i:i + sh.blocks])],
                          sh.slot_bits, sh.slots, sh.n_out)
            for i in range(0, len(plain), sh.blocks)]


def user_output(masked: Matrix, r_c: Matrix, sh: PackedLayout) -> Matrix:
    """q = (q + r_c) - r_c for the output layer, with the range the slots guarantee."""
    _check(len(masked), len(r_c), "output patches")
    bound = 1 << sh.masked_output_bits
    out = []
    for vs, rs in zip(masked, r_c):
        _check(len(vs), sh.n_out, "outputs")
        if not all(0 <= v < bound for v in vs):
            raise ProtocolError("masked output out of range")
        out.append([v - r for v, r in zip(vs, rs)])
    return out

"""A cloud played by someone who is not the cloud (finding 1 of issue 11), for the attack tests
of test_impersonated_cloud.py.

It has no model and runs the real cloud's code (PackedCloud) except where it lies:
* its own key pair c, of any size it likes;
* a provisioning that gives the user V' (0, or any values in V's range) and Enc_c(Z - V'),
  so the user's Q = Enc_c(V') * Enc_c(Z - V') = Enc_c(Z) for a Z of its choosing;
* corrections E whose plaintext A it knows (0, or slot masks in their honest range);
* the real garbling, so the user gets as far as its first D.
Z puts pixel j of each patch into a block's free bits above the user's masks pack(r_c):
Dec(D_k) + A_k = pack(r_c)_k + sum_j e_j 2^(B_k + w i_j), with B_k the bits the block's
slots use. From the first D the impersonator reads every patch, and closes.

Styles: "zero" (V' = 0, E = Enc_u(0), the issue's attack), "one" (every ciphertext under the
user's key is the integer 1: no key needed, the relay of the issue), "well_formed" (V' and A
in their honest ranges, fresh randomness everywhere: what the user's checks cannot refuse).
"""
import os
import threading

from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.frames import recv_cts, send_cts
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.lowerings.packed.cloud import CloudBatch, PackedCloud, Provisioning
from veil.backends.yao.lowerings.packed.model import PackedModel
from veil.backends.yao.lowerings.packed.slots import pack_blocks
from veil.backends.yao.lowerings.packed.user import PackedUser

from .packed_security_kit import PATCHES, recording_pair, the_patches

STYLES = ("zero", "one", "well_formed")


def carriers(sh, n_c_bits: int) -> list[tuple[int, int]]:
    """(block, bit offset) of each input j: packed greedily into the blocks' free bits."""
    w, out = sh.input_bits, []
    for k in range(sh.blocks):
        used = min(sh.slots, sh.n_out - k * sh.slots) * sh.slot_bits
        room = (n_c_bits - 2 - used) // w
        out += [(k, used + w * i) for i in range(min(room, sh.n_in - len(out)))]
    if len(out) < sh.n_in:
        raise ValueError("the cloud's key leaves no room for every pixel")
    return out


def read_block(y: int, n_c: int, offsets: list[int], w: int) -> list[int]:
    """Signed digits of width w at the given offsets of a centred residue."""
    y = y % n_c
    if 2 * y > n_c:
        y -= n_c
    start = offsets[0]
    y >>= start                          # pack(r_c) below, in [0, 2^start)
    digits = []
    for _ in offsets:
        d = y & ((1 << w) - 1)
        if d >= 1 << (w - 1):
            d -= 1 << w
        digits.append(d)
        y = (y - d) >> w
    return digits


class Impersonator(PackedCloud):
    def __init__(self, program, pk_u, keys, style: str, session_id: bytes):
        assert style in STYLES
        shapes = [st.packed for st in program.dense]
        fake = PackedModel(tuple([[mpz(1)] * sh.n_in for _ in range(sh.blocks)] for sh in shapes),
                           tuple([mpz(1)] * sh.blocks for sh in shapes))
        super().__init__(program, pk_u, fake, session_id, keys)
        self.style, self.recovered, self.A = style, None, []
        self.first = shapes[0]
        self.where = carriers(self.first, self.pk_c.bits)

    def _under_u(self, plain: list[int]) -> list[mpz]:
        if self.style == "one":
            return [mpz(1)] * len(plain)
        return P.encrypt(self.pk, plain)

    def provisioning(self) -> Provisioning:
        masked, neg_R = [], []
        for k, sh in enumerate(self.shapes):
            V = [[0] * sh.n_in for _ in range(sh.n_out)]
            if self.style == "well_formed":
                V = [[1 << sh.weight_bits] * sh.n_in for _ in range(sh.n_out)]
            packed_V = [v for row in L.pack_columns(V, sh) for v in row]
            Z = [[0] * sh.n_in for _ in range(sh.blocks)]
            if k == 0:
                for j, (block, offset) in enumerate(self.where):
                    Z[block][j] = 1 << offset
            flat_Z = [z for row in Z for z in row]
            masked.append(self._under_u([0] * len(packed_V) if self.style != "well_formed"
                                        else packed_V))
            neg_R.append(P.encrypt(self.pk_c, [(z - v) % self.pk_c.n
                                               for z, v in zip(flat_Z, packed_V)]))
        return Provisioning(tuple(masked), tuple(neg_R))

    def prepare(self, ch, patches=None) -> CloudBatch:
        patches = self.read_batch_request(ch) if patches is None else patches
        batch, self.A = CloudBatch(patches), []
        for sh in self.shapes:
            m = L.draw_slot_masks(sh, patches)
            A = ([0] * (patches * sh.blocks) if self.style != "well_formed"
                 else [v for row in m for v in pack_blocks(row, sh.slot_bits, sh.slots)])
            send_cts(ch, self.pk, self._under_u(A))
            self.A.append(A)
        for k, st in enumerate(self.program.dense):
            if self.program.activation(st.layer.index) is not None:
                r_u = [v for row in L.draw_input_masks(self.shapes[k + 1], patches) for v in row]
                batch.gc.append(self.garbler.prepare(ch, self.program.activation(
                    st.layer.index), r_u))
        return batch

    def serve_online(self, ch, batch) -> int:
        sh, w = self.first, self.first.input_bits
        D = recv_cts(ch, self.pk_c, batch.patches * sh.blocks)
        plain = P.decrypt(self.sk_c, D)
        rows = []
        for p in range(batch.patches):
            row = [0] * sh.n_in
            for k in range(sh.blocks):
                js = [j for j, (block, _) in enumerate(self.where) if block == k]
                if js:
                    y = plain[p * sh.blocks + k] + self.A[0][p * sh.blocks + k]
                    for j, d in zip(js, read_block(y, self.pk_c.n,
                                                   [self.where[j][1] for j in js], w)):
                        row[j] = d
            rows.append([int(v) for v in row])
        self.recovered = rows
        ch.close()
        return batch.patches


def run_against(setting, cloud_factory):
    """The user's provisioning, one batch's preparation and its online phase against the
    cloud `cloud_factory(program, pk_u, session_id)` builds. Returns (the user's error or None,
    the kinds the user sent, the cloud, the patches)."""
    program, (pk_u, sk_u), _, _ = setting
    x = the_patches(program)
    u_ch, c_ch = recording_pair(timeout=30)
    sid = os.urandom(16)
    user = PackedUser(program, pk_u, sk_u, sid)
    cloud = cloud_factory(program, pk_u, sid)

    def cloud_side():
        try:
            cloud.setup(c_ch)
            cloud.serve_online(c_ch, cloud.prepare(c_ch))
        except Exception:
            c_ch.close()

    thread = threading.Thread(target=cloud_side, daemon=True)
    thread.start()
    error = None
    try:
        user.setup(u_ch)
        user.run_online(u_ch, user.prepare(u_ch, PATCHES), x)
    except Exception as e:
        error = e
        u_ch.close()
    thread.join(60)
    return error, u_ch.sent, cloud, x.tolist()

"""Malformed online messages (the products D; the cloud's replies, tampered in flight), refused
by the receiver before it uses them."""
import os
import queue

import pytest

from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.framing.payloads import pack_ints, unpack_ints
from veil.backends.yao.lowerings.packed.cloud import CloudBatch, PackedCloud
from veil.backends.yao.lowerings.packed.user import PackedUser

from .packed_security_kit import KAPPA, Recording, both, endpoint, frame, the_patches

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


@pytest.mark.parametrize("case", ["one fewer", "one more", "user's key", "wrong kind",
                                  "does not unpack", "truncated frame"])
def test_cloud_refuses_malformed_products(parties, spies, case):
    """D frames for layer 1 of a batch of 2: refused before the cloud sends anything (a D
    whose plaintext does not fit the slots is refused by the decoder, before use)."""
    _, cloud = parties
    sh = cloud.shapes[0]
    count = 2 * sh.blocks
    batch = CloudBatch(2, m=[L.draw_slot_masks(s, 2) for s in cloud.shapes])
    pk_c, pk_u = cloud.pk_c, cloud.pk

    def d(pk, c, values=None):
        cts = P.encrypt(pk, values if values is not None else [1] * c)
        return frame(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, cts))

    raw, exc, match = {
        "one fewer": (d(pk_c, count - 1), ProtocolError, f"expected {count} cip"),
        "one more": (d(pk_c, count + 1), ProtocolError, f"expected {count} cip"),
        "user's key": (d(pk_u, count), ProtocolError, "different Paillier key"),
        "wrong kind": (frame(Kind.INTEGERS, pack_ints([1] * count, 8)), ProtocolError,
                       "INTEGERS, expected CIPHERTEXTS"),
        "does not unpack": (d(pk_c, count, [1 << sh.slot_bits * sh.slots] * count), ProtocolError,
                            "does not fit"),
        "truncated frame": (d(pk_c, count)[:-1], ProtocolError, "closed"),
    }[case]
    ch = endpoint(raw, close=True)
    with pytest.raises(exc, match=match):
        cloud.serve_online(ch, batch)
    assert ch.sent == []
    assert spies.get("cloud_decode", 0) == (1 if case == "does not unpack" else 0)


class Tampering(Recording):
    """Sends like a Recording, but once armed rewrites the next frame of one kind."""

    def __init__(self, *a, kind: Kind, rewrite, **k):
        super().__init__(*a, **k)
        self.kind, self.rewrite, self.armed = kind, rewrite, False

    def send(self, kind, payload):
        if self.armed and kind is self.kind:
            self.armed = False
            kind, payload = self.rewrite(kind, bytes(payload))
        super().send(kind, payload)


@pytest.mark.parametrize("case", ["count", "out of range", "wrong width", "wrong kind",
                                  "labels truncated"])
def test_user_refuses_a_malformed_online_reply(setting, case):
    """The cloud's online replies tampered in flight (the output q + r_c: one value more, a
    value above its bound, a wider encoding, another kind; the garbled inputs' labels one
    byte short): the user raises instead of returning an output."""
    program, (pk_u, sk_u), cloud_keys, model = setting
    sid = os.urandom(16)
    user = PackedUser(program, pk_u, sk_u, sid)
    cloud = PackedCloud(program, pk_u, model, sid, cloud_keys)
    bound = 1 << (program.dense[-1].layer.acc_bits + KAPPA + 1)

    def rewrite(kind, payload):
        if case == "labels truncated":
            return kind, payload[:-1]
        vals = unpack_ints(payload, 1 << 200)
        return {"count": (kind, pack_ints(vals + [1], 9)),
                "out of range": (kind, pack_ints([bound] + vals[1:], 9)),
                "wrong width": (kind, pack_ints(vals, 32)),
                "wrong kind": (Kind.LABELS, payload)}[case]

    a, b = queue.Queue(), queue.Queue()
    u_ch = Recording(a, b, 30.0)
    kind = Kind.LABELS if case == "labels truncated" else Kind.INTEGERS
    c_ch = Tampering(b, a, 30.0, kind=kind, rewrite=rewrite)
    both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch), u_ch, c_ch)
    x = the_patches(program)[:1]
    ub, cb = both(lambda: user.prepare(u_ch, 1), lambda: cloud.prepare(c_ch), u_ch, c_ch)
    c_ch.armed = True

    def cloud_side():
        try:
            return cloud.serve_online(c_ch, cb)
        except ProtocolError:            # the user stopped: the cloud's pending receive ends
            return None

    def user_side():
        try:
            return user.run_online(u_ch, ub, x)
        finally:
            u_ch.close()

    match = {"count": "2 values, expected 1", "out of range": "out of range",
             "wrong width": "width 32 bytes", "wrong kind": "LABELS, expected INTEGERS",
             "labels truncated": "label message has"}[case]
    with pytest.raises(ProtocolError, match=match):
        both(user_side, cloud_side)
    assert not c_ch.armed                # the tampered frame was sent, and refused

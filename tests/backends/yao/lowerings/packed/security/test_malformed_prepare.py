"""Malformed messages of a batch's preparation (the batch size, the corrections E), refused
by the receiver before it uses them."""
import pytest

from veil.util.errors import UsageError

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.framing.payloads import pack_ints
from veil.backends.yao.lowerings.packed.user import MAX_BATCH_PATCHES as MAX_PATCHES

from .packed_security_kit import endpoint, frame

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


BATCH_REQUESTS = {
    "batch of 0": (frame(Kind.INTEGERS, pack_ints([0], 2)), "a batch of 0"),
    "above MAX_PATCHES": (frame(Kind.INTEGERS, pack_ints([MAX_PATCHES + 1], 2)),
                          f"a batch of {MAX_PATCHES + 1}"),
    "2^15": (frame(Kind.INTEGERS, pack_ints([1 << 15], 2)), "a batch of 32768"),
    "two counts": (frame(Kind.INTEGERS, pack_ints([2, 2], 2)), "2 values, expected 1"),
    "truncated payload": (frame(Kind.INTEGERS, pack_ints([2], 2)[:-1]), "1 values of 2 bytes"),
    "truncated frame": (frame(Kind.INTEGERS, pack_ints([2], 2))[:-1], "closed the channel"),
    "oversized": (frame(Kind.INTEGERS, b"\x00" * 200), "exceeds the limit"),
    "wrong kind": (frame(Kind.CIPHERTEXTS, pack_ints([2], 2)), "CIPHERTEXTS, expected INTEGERS"),
    "bad magic": (b"XX" + frame(Kind.INTEGERS, pack_ints([2], 2))[2:], "bad magic"),
}


@pytest.mark.parametrize("case", list(BATCH_REQUESTS))
def test_cloud_refuses_a_malformed_batch_size(parties, spies, case):
    """The batch request: refused with its own error (not a later one), before the cloud
    draws a mask or sends anything."""
    _, cloud = parties
    raw, match = BATCH_REQUESTS[case]
    ch = endpoint(raw, close=True)
    with pytest.raises(ProtocolError, match=match):
        cloud.prepare(ch)
    assert ch.sent == [] and spies == {}


def test_user_refuses_a_bad_batch_size_before_sending(parties):
    user, _ = parties
    for patches in (0, MAX_PATCHES + 1, -1):
        ch = endpoint()
        with pytest.raises(UsageError):
            user.prepare(ch, patches)
        assert ch.sent == []


def e_frame(user, count, pk=None, values=None):
    pk = pk or user.pk
    cts = P.encrypt(pk, values if values is not None else [1] * count)
    return frame(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, cts))


def malformed_E(user):
    blocks = user.shapes[0].blocks * 2                                # for a batch of 2
    good = P.dumps_ciphertexts(user.pk, P.encrypt(user.pk, [1] * blocks))
    n2 = user.pk.nsquare
    zero = P.dumps_ciphertexts(user.pk, [0] + P.encrypt(user.pk, [1] * (blocks - 1)))
    return {
        "one fewer": (e_frame(user, blocks - 1), ProtocolError, f"expected {blocks} cip"),
        "one more": (e_frame(user, blocks + 1), ProtocolError, f"expected {blocks} cip"),
        "cloud's key": (e_frame(user, blocks, pk=user.pk_c), ProtocolError, "different Paillier key"),
        "truncated payload": (frame(Kind.CIPHERTEXTS, good[:-1]), ProtocolError, "truncated"),
        "truncated frame": (frame(Kind.CIPHERTEXTS, good)[:-1], ProtocolError, "closed"),
        "not in Z*_n2": (frame(Kind.CIPHERTEXTS, zero), ProtocolError, "out of range"),
        "n^2": (frame(Kind.CIPHERTEXTS, good[:-2 * user.pk.byte_width]
                      + int(n2).to_bytes(2 * user.pk.byte_width, "big")), ProtocolError,
                "out of range"),
        "wrong kind": (frame(Kind.LABELS, good), ProtocolError, "LABELS, expected CIPHERTEXTS"),
        "too wide for its slots": (e_frame(user, blocks, values=[user.pk.n - 1] * blocks),
                                   ProtocolError, "outside the range of its packed slots"),
    }


@pytest.mark.parametrize("case", ["one fewer", "one more", "cloud's key", "truncated payload",
                                  "truncated frame", "not in Z*_n2", "n^2", "wrong kind",
                                  "too wide for its slots"])
def test_user_refuses_malformed_corrections(parties, spies, case):
    """E frames for layer 1 of a batch of 2: refused before the user builds any F (it sends
    nothing after the batch size; a too-wide correction is refused inside user_corrections,
    after decryption and before F)."""
    user, _ = parties
    raw, exc, match = malformed_E(user)[case]
    ch = endpoint(raw, close=True)
    with pytest.raises(exc, match=match):
        user.prepare(ch, 2)
    assert ch.sent == [Kind.INTEGERS]
    assert spies.get("user_corrections", 0) == (1 if case == "too wide for its slots" else 0)

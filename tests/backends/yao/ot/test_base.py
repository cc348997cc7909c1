"""Chou-Orlandi base OTs: correctness, both privacy directions, malformed messages."""
import gmpy2
import numpy as np
import pytest
from gmpy2 import mpz

from veil.backends.yao.ot import group as grp
from veil.backends.yao.ot.base import BaseOTReceiver, BaseOTSender, _key
from veil.backends.yao.ot.messages import BaseOTReply, BaseOTStart
from veil.util.errors import ProtocolError

from .ot_kit import fix_randomness, random_bits, select

SID = b"test-base-ot"


def run(choices, sid=SID):
    sender, receiver = BaseOTSender(len(choices), sid), BaseOTReceiver(choices, sid)
    start = sender.start()
    reply, keys = receiver.respond(start.to_bytes())
    k0, k1 = sender.finish(reply.to_bytes())
    return start, reply, keys, k0, k1


@pytest.mark.parametrize("n", [1, 8, 128])
def test_receiver_gets_chosen_key_only(n):
    c = random_bits(n)
    _, _, keys, k0, k1 = run(c)
    assert keys.shape == k0.shape == k1.shape == (n, 16)
    assert np.array_equal(keys, select(c, k0, k1))
    assert not np.any(np.all(keys == select(c, k1, k0), axis=1))      # never the other key
    assert len({bytes(k) for k in np.concatenate([k0, k1])}) == 2 * n   # all keys distinct


def test_keys_bound_to_session():
    c = random_bits(4)
    assert not np.array_equal(run(c, b"session-a")[2], run(c, b"session-b")[2])


def test_sender_view_independent_of_choices(monkeypatch):
    """Perfect receiver privacy, exactly: with A fixed, choices all-0 with exponents b and
    all-1 with exponents b - a give byte-identical replies, so the sender's whole view is the
    same for both choice vectors (it just ends up holding k0 in one world, k1 in the other)."""
    n = 6
    with monkeypatch.context() as mp:
        fix_randomness(mp, b"sender-a")
        sender = BaseOTSender(n, SID)
        start = sender.start().to_bytes()
    a = mpz(sender._a)                       # the test knows the sender's secret
    b = [grp.random_exponent() for _ in range(n)]
    replies = []
    for choice, shift in ((0, 0), (1, a)):
        exps = [int((bi - shift) % grp.Q) - 1 for bi in b]        # random_exponent adds 1
        with monkeypatch.context() as mp:
            fix_randomness(mp, b"unused", exponents=exps)
            reply, _ = BaseOTReceiver(np.full(n, choice), SID).respond(start)
        replies.append(reply.to_bytes())
    assert replies[0] == replies[1]


def test_receiver_cannot_derive_other_key(monkeypatch):
    """The obvious receiver attacks on k_{1-c}: hash, with the other bit, the shared value it
    has (A^b) or the values it can form from its view (A^b * A^+-1, B^b, g^b, A)."""
    n = 8
    c = random_bits(n)
    b = [int(grp.random_exponent()) for _ in range(n)]
    sender, receiver = BaseOTSender(n, SID), BaseOTReceiver(c, SID)
    start = sender.start()
    with monkeypatch.context() as mp:
        fix_randomness(mp, b"unused", exponents=[bi - 1 for bi in b])
        reply, keys = receiver.respond(start)
    k0, k1 = sender.finish(reply)
    other = {bytes(k) for k in select(c, k1, k0)}
    big_a, p = start.a_pub, grp.P
    for i, (bi, big_b) in enumerate(zip(b, reply.b_pub)):
        z = gmpy2.powmod(big_a, bi, p)
        guesses = [z, z * big_a % p, z * gmpy2.invert(big_a, p) % p,
                   gmpy2.powmod(big_b, bi, p), gmpy2.powmod(grp.G, bi, p), big_a]
        for guess in guesses:
            for bit in (0, 1):
                assert _key(SID, i, bit, big_a, big_b, guess) not in other
    assert {bytes(k) for k in keys} == {bytes(k) for k in select(c, k0, k1)}


# ----- malformed messages ------------------------------------------------------------------

BAD_ELEMENTS = [0, 1, grp.P - 1, grp.P - 2, grp.P, grp.P + 1, 2 ** 2048 - 1]


@pytest.mark.parametrize("x", BAD_ELEMENTS)
def test_receiver_rejects_bad_start(x):
    with pytest.raises(ProtocolError):
        BaseOTReceiver(np.array([0, 1]), SID).respond(int(x).to_bytes(256, "big"))
    if x < 2 ** 2048:
        with pytest.raises(ValueError):
            BaseOTStart(mpz(x))


@pytest.mark.parametrize("length", [0, 255, 257])
def test_receiver_rejects_start_of_wrong_length(length):
    with pytest.raises(ProtocolError):
        BaseOTReceiver(np.array([1]), SID).respond(bytes([5]) * length)


@pytest.mark.parametrize("x", BAD_ELEMENTS)
def test_sender_rejects_bad_element_in_reply(x):
    sender, receiver = BaseOTSender(4, SID), BaseOTReceiver(np.array([0, 1, 1, 0]), SID)
    reply, _ = receiver.respond(sender.start())
    data = bytearray(reply.to_bytes())
    data[2 * 256:3 * 256] = int(x).to_bytes(256, "big")
    with pytest.raises(ProtocolError):
        sender.finish(bytes(data))


@pytest.mark.parametrize("delta", [-256, -1, 1, 256])
def test_sender_rejects_reply_of_wrong_length(delta):
    sender, receiver = BaseOTSender(3, SID), BaseOTReceiver(np.array([0, 1, 1]), SID)
    data = receiver.respond(sender.start())[0].to_bytes()
    data = data[:delta] if delta < 0 else data + bytes(delta)
    with pytest.raises(ProtocolError):
        sender.finish(data)


def test_sender_rejects_reply_object_of_wrong_count():
    sender, receiver = BaseOTSender(3, SID), BaseOTReceiver(np.array([0, 1]), SID)
    with pytest.raises(ValueError):
        sender.finish(receiver.respond(sender.start())[0])
    with pytest.raises(ValueError):
        BaseOTReply((gmpy2.powmod(grp.G, 5, grp.P), mpz(1)))


@pytest.mark.parametrize("choices", [[], [0, 2], [[0, 1]], [0.0, 1.0]])
def test_bad_choices(choices):
    with pytest.raises(ValueError):
        BaseOTReceiver(np.array(choices), SID)


def test_state_errors():
    sender = BaseOTSender(1, SID)
    with pytest.raises(RuntimeError):
        sender.finish(bytes(256))
    sender.start()
    with pytest.raises(RuntimeError):
        sender.start()

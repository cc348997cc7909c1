"""IKNP extension: random, chosen-message and correlated OT; batching; malformed messages."""
import secrets

import numpy as np
import pytest

from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot.messages import ChosenReply, CorrectionReply, ExtendRequest
from veil.backends.yao.ot.run import Traffic, correlated_batch, run_correlated_ot, setup_pair
from veil.util.errors import ProtocolError

from .ot_kit import random_bits, random_blocks, select

SIZES = [1, 127, 128, 1000, 100_003]


@pytest.fixture(scope="module")
def pair():
    """One set-up (sender, receiver): every test below runs whole batches on it, which also
    checks that one base-OT setup serves many batches of any size and kind."""
    return setup_pair(b"test-ot-extension")


def distinct_rows(a: np.ndarray) -> int:
    return len({row.tobytes() for row in a})


@pytest.mark.parametrize("n", SIZES)
def test_random_ot(pair, n):
    send, recv = pair
    c = random_bits(n)
    x0, x1 = send.random(recv.extend(c).to_bytes(), n)
    xc = recv.finish_random()
    assert x0.shape == x1.shape == xc.shape == (n, 16)
    assert np.array_equal(xc, select(c, x0, x1))
    assert not np.any(np.all(x0 == x1, axis=1))
    assert distinct_rows(x0 ^ x1) == n                     # random OT: no fixed correlation


@pytest.mark.parametrize("n", SIZES)
def test_chosen_ot(pair, n):
    send, recv = pair
    c, m0, m1 = random_bits(n), random_blocks(n), random_blocks(n)
    reply = send.chosen(recv.extend(c), m0, m1)
    assert np.array_equal(recv.finish_chosen(reply.to_bytes()), select(c, m0, m1))


@pytest.mark.parametrize("n", SIZES)
def test_correlated_ot(pair, n):
    send, recv = pair
    c, delta = random_bits(n), secrets.token_bytes(16)
    m0, corr = send.correlated(recv.extend(c).to_bytes(), delta, n)
    mc = recv.finish_correlated(corr.to_bytes())
    m1 = m0 ^ np.frombuffer(delta, np.uint8)                 # the sender's pair (m0, m0 ^ R)
    assert np.array_equal(mc, select(c, m0, m1))
    assert distinct_rows(m0) == n


@pytest.mark.slow
def test_correlated_ot_million(pair):
    send, recv = pair
    c, delta = random_bits(1_000_000), secrets.token_bytes(16)
    m0, mc = correlated_batch(send, recv, delta, c)
    assert np.array_equal(mc, select(c, m0, m0 ^ np.frombuffer(delta, np.uint8)))


def test_messages_as_arrays_or_memoryviews(pair):
    """A channel may hand over bytes, memoryviews or bare arrays: all are accepted, checked."""
    send, recv = pair
    n = 77
    c, m0, m1 = random_bits(n), random_blocks(n), random_blocks(n)
    req = recv.extend(c)
    reply = send.chosen(memoryview(req.to_bytes()), m0, m1)
    assert np.array_equal(recv.finish_chosen(reply.data), select(c, m0, m1))
    x0, x1 = send.random(recv.extend(c).data, n)
    assert np.array_equal(recv.finish_random(), select(c, x0, x1))


@pytest.mark.parametrize("choices", ["zeros", "ones"])
def test_constant_choices(pair, choices):
    send, recv = pair
    c = np.zeros(300, np.uint8) if choices == "zeros" else np.ones(300, bool)
    delta = secrets.token_bytes(16)
    m0, mc = correlated_batch(send, recv, delta, c)
    assert np.array_equal(mc, m0 if choices == "zeros" else m0 ^ np.frombuffer(delta, np.uint8))


def test_run_correlated_ot_batches_traffic_and_fresh_sessions():
    n, delta = 2500, secrets.token_bytes(16)
    c = random_bits(n)
    traffic = Traffic()
    m0, mc = run_correlated_ot(delta, c, session_id=b"same", traffic=traffic, batch=1000)
    assert np.array_equal(mc, select(c, m0, m0 ^ np.frombuffer(delta, np.uint8)))
    assert traffic.base_to_receiver == 256 and traffic.base_to_sender == 128 * 256
    assert traffic.to_sender == 128 * 256 + 128 * (125 + 125 + 63)   # u rows, byte-padded
    assert traffic.to_receiver == 256 + 16 * n
    again = run_correlated_ot(delta, c[:50], session_id=b"same")[0]
    assert not np.any(np.all(again == m0[:50], axis=1))   # fresh base OTs -> fresh outputs


# ----- malformed messages and misuse -------------------------------------------------------

def test_malformed_messages_leave_state_intact(pair):
    send, recv = pair
    n, delta = 100, secrets.token_bytes(16)
    c = random_bits(n)
    req = recv.extend(c)
    data = req.to_bytes()
    for bad in (data[:-1], data + b"\0", b"", data[:16 * 13]):
        with pytest.raises(ProtocolError):
            send.correlated(bad, delta, n)
    with pytest.raises(ProtocolError):
        send.correlated(data, delta, n + 8)                     # other m than agreed
    with pytest.raises(ValueError):
        send.correlated(ExtendRequest(req.data[:, :-1].copy()), delta, n)
    with pytest.raises(ValueError):
        send.correlated(ExtendRequest(req.data.astype(np.int16)), delta, n)
    for bad_delta in (delta[:15], delta + b"\0", np.zeros(16, np.int32),
                      np.zeros((1, 16), np.uint8)):
        with pytest.raises(ValueError):
            send.correlated(data, bad_delta, n)
    with pytest.raises(ValueError):
        send.correlated(data, delta, 0)
    m0, corr = send.correlated(data, delta, n)                 # the real one still works
    for bad in (corr.to_bytes()[:-16], corr.to_bytes() + bytes(16), bytes(16 * n - 1)):
        with pytest.raises(ProtocolError):
            recv.finish_correlated(bad)
    with pytest.raises(ValueError):
        recv.finish_correlated(CorrectionReply(corr.data[:-1]))
    with pytest.raises(ValueError):
        recv.finish_correlated(ChosenReply(np.zeros((2, n, 16), np.uint8)))
    mc = recv.finish_correlated(corr)
    assert np.array_equal(mc, select(c, m0, m0 ^ np.frombuffer(delta, np.uint8)))


def test_malformed_chosen(pair):
    send, recv = pair
    n = 40
    c, m0, m1 = random_bits(n), random_blocks(n), random_blocks(n)
    req = recv.extend(c).to_bytes()
    for a, b in ((m0[:-1], m1), (m0, m1[:, :15]), (m0.astype(np.int64), m1), (m0.tobytes(), m1)):
        with pytest.raises(ValueError):                        # our own messages: a bug
            send.chosen(req, a, b)
    reply = send.chosen(req, m0, m1).to_bytes()
    with pytest.raises(ProtocolError):                          # the peer's: bad data
        recv.finish_chosen(reply[:-1])
    assert np.array_equal(recv.finish_chosen(reply), select(c, m0, m1))


@pytest.mark.parametrize("choices", [[], [0, 1, 2], [[0, 1]], [0.5, 1.0], ["0", "1"]])
def test_bad_choices(pair, choices):
    with pytest.raises(ValueError):
        pair[1].extend(np.array(choices))


def test_state_errors(pair):
    send, recv = pair
    fresh_recv, fresh_send = OTExtReceiver(b"x"), OTExtSender(b"x")
    with pytest.raises(RuntimeError):
        fresh_recv.extend(np.array([1, 0]))
    with pytest.raises(RuntimeError):
        fresh_send.random(bytes(128), 1)
    with pytest.raises(RuntimeError):
        recv.finish_random()                                    # nothing pending
    recv.extend(np.array([1]))
    with pytest.raises(RuntimeError):
        recv.extend(np.array([1]))                              # previous batch open
    send.random(bytes(128), 1)
    recv.finish_random()
    with pytest.raises(RuntimeError):
        send.setup(bytes(256))

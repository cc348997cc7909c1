"""Attack-style tests of the OT extension's privacy, both directions.

The base OTs' own privacy (the base sender C learns nothing about U's IKNP secret s, exactly;
U cannot derive the unchosen base keys) is in test_ot_base.py. Here: C, the receiver, cannot
recover unchosen messages or the correlation R from everything it holds; U, the sender, sees
a request that looks uniform whatever the choices and cannot read them off with its seeds.
"""
import secrets

import numpy as np
import pytest

from veil.backends.yao.ot import extension as ot_extension
from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot.hash import TweakedHash
from veil.backends.yao.ot.prg import SeedStreams
from veil.backends.yao.ot.transpose import transpose_bits

from .ot_kit import fix_randomness, random_bits, random_blocks, select

SID = b"test-ot-privacy"


class Run:
    """One session with chosen randomness per party; records what each party holds."""

    def __init__(self, monkeypatch, seed_recv: bytes | None, seed_send: bytes | None):
        seeds = []                                   # (k0, k1) of C, then k_s of U

        class Recording(SeedStreams):
            def __init__(self, s):
                seeds.append(s.copy())
                super().__init__(s)

        with monkeypatch.context() as mp:
            mp.setattr(ot_extension, "SeedStreams", Recording)
            with monkeypatch.context() as mp2:
                if seed_send:
                    fix_randomness(mp2, seed_send)
                self.send = OTExtSender(SID)                  # draws s
            with monkeypatch.context() as mp2:
                if seed_recv:
                    fix_randomness(mp2, seed_recv)
                self.recv = OTExtReceiver(SID)
                start = self.recv.setup()                     # draws a: C's only randomness
            with monkeypatch.context() as mp2:
                if seed_send:
                    fix_randomness(mp2, seed_send + b"/base")
                self.base_reply = self.send.setup(start).to_bytes()     # draws U's b_j
            self.recv.finish_setup(self.base_reply)
        self.ks, self.k0, self.k1 = seeds                  # in order of creation
        self.s = np.unpackbits(self.send._s, bitorder="little")


@pytest.fixture(scope="module")
def shared_run():
    """A session with real randomness, plus a mirror of U's PRG streams for its attacks."""
    with pytest.MonkeyPatch.context() as mp:
        run = Run(mp, None, None)
    run.mirror = SeedStreams(run.ks)
    return run


def request(run: Run, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C's request u for choices c, and G(k_{s_j}) for the same batch (U's own streams)."""
    u = run.recv.extend(c).data
    return u, run.mirror.next(u.shape[1])


def test_receiver_view_hides_unchosen_messages(monkeypatch):
    """Same randomness on both sides, same choices and chosen messages, other unchosen ones:
    the receiver's received transcript changes only in the unchosen slots, by exactly the
    change of message (a one-time pad whose key the receiver cannot compute), and its
    output is the same. The pad is H(i, t_i ^ s): the receiver has t_i but not s, and the
    obvious guesses (its own pad, s = 0...0 or 1...1) all miss.
    A second batch in each world, with other choices, checks that C's request moves by
    exactly r ^ r' in every row: the choices enter only through that one-time pad."""
    n = 2000
    c, chosen = random_bits(n), random_blocks(n)
    second = [random_bits(n), random_bits(n)]
    idx = np.arange(n)
    views, outputs, unchosen, requests = [], [], [], []
    for world in range(2):
        run = Run(monkeypatch, b"receiver", b"sender")
        other = random_blocks(n)
        m0, m1 = select(c, chosen, other), select(c, other, chosen)
        reply = run.send.chosen(run.recv.extend(c), m0, m1)
        outputs.append(run.recv.finish_chosen(reply.to_bytes()))
        views.append((run.base_reply, reply.data))
        unchosen.append(other)
        requests.append(run.recv.extend(second[world]).data)
    assert views[0][0] == views[1][0]
    assert np.array_equal(outputs[0], chosen) and np.array_equal(outputs[1], chosen)
    y0, y1 = views[0][1], views[1][1]
    assert np.array_equal(y0[c, idx], y1[c, idx])
    assert np.array_equal(y0[1 - c, idx] ^ y1[1 - c, idx], unchosen[0] ^ unchosen[1])

    # the pad on the unchosen slots, and what the receiver can compute
    pad = y0[1 - c, idx] ^ unchosen[0]
    t = transpose_bits(SeedStreams(run.k0).next(-(-n // 8)))[:n]
    h = TweakedHash(SID)
    pad_set = {row.tobytes() for row in pad}
    for guess in (h.hash(t, 0), h.hash(t ^ 0xFF, 0), h.hash(np.zeros_like(t), 0)):
        assert not pad_set & {row.tobytes() for row in guess}
    s_row = np.packbits(run.s, bitorder="little")
    assert np.array_equal(pad, h.hash(t ^ s_row, 0))              # ...only s opens it
    assert abs(np.unpackbits(pad).mean() - 0.5) < 6 * 0.5 / np.sqrt(pad.size * 8)

    diff = np.packbits(second[0] ^ second[1], bitorder="little")
    assert np.array_equal(requests[0] ^ requests[1], np.broadcast_to(diff, requests[0].shape))


def test_receiver_cannot_find_correlation(shared_run):
    """Correlated OT: R is not among the receiver's values (outputs, corrections, own pads)
    nor among any XOR of two of them (the linear attack that would open every label)."""
    run = shared_run
    n, delta = 1500, secrets.token_bytes(16)
    c = random_bits(n)
    m0, corr = run.send.correlated(request(run, c)[0], delta, n)
    mc = run.recv.finish_correlated(corr)
    pads = mc ^ (corr.data & (0 - c)[:, None])
    values = {row.tobytes() for arr in (mc, corr.data, pads) for row in arr}
    shifted = {bytes(a ^ b for a, b in zip(v, delta)) for v in values}
    assert delta not in values and not values & shifted
    assert np.array_equal(mc, select(c, m0, m0 ^ np.frombuffer(delta, np.uint8)))


@pytest.mark.parametrize("kind", ["zeros", "ones", "random"])
def test_sender_view_looks_uniform_for_any_choices(shared_run, kind):
    """The request u: every row balanced whatever the choices, and the sender's obvious
    attack (u_j ^ G(k_{s_j}), its own base-OT seeds, per row and by majority vote) predicts
    the choices no better than a coin."""
    run = shared_run
    n = 8000
    c = {"zeros": np.zeros(n, np.uint8), "ones": np.ones(n, np.uint8),
         "random": random_bits(n)}[kind]
    u, mine = request(run, c)
    run.send.random(u.tobytes(), n)
    run.recv.finish_random()
    sigma = 0.5 / np.sqrt(n)
    bits = np.unpackbits(u, axis=1, bitorder="little")[:, :n]
    assert np.all(np.abs(bits.mean(axis=1) - 0.5) < 6 * sigma)
    guess = bits ^ np.unpackbits(mine, axis=1, bitorder="little")[:, :n]   # r ^ G(k_{1-s_j})
    agree = (guess == c[None, :]).mean(axis=1)
    assert np.all(np.abs(agree - 0.5) < 6 * sigma)
    votes = guess.sum(axis=0, dtype=np.int64)
    decided = votes != 64                                          # ties say nothing
    right = ((votes > 64) == c.astype(bool))[decided]
    assert abs(right.mean() - 0.5) < 6 * 0.5 / np.sqrt(right.size)

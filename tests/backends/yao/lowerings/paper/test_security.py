"""Attacks on the paper lowering's invariants (PROTOCOL.md): record every frame each party
receives during a run of `tiny`, then look at it the way a curious party would, with the
plaintext reference's intermediate values at hand to recognise anything that leaks."""
import os
import random
import threading
import warnings

import numpy as np
import pytest

from veil.backends.yao.lowerings import garbled_activation
from veil.backends.yao.lowerings.paper import linear as paper_linear
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.paper.cloud import PaperCloud
from veil.backends.yao.lowerings.paper.model import publish_paper
from veil.backends.yao.lowerings.paper.user import PaperUser
from veil.models.catalog import compile_model
from veil.compiler.program import SecurityParams
from veil.models.crosscheck import random_pixel_patches

from ..secure_testkit import reference_intermediates

KAPPA = 40


class Recording(InProcessChannel):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.received: list[tuple[Kind, bytes]] = []

    def recv(self, expected, max_payload=None):
        payload = super().recv(expected, max_payload)
        self.received.append((expected, payload))
        return payload


def recording_pair():
    import queue
    a, b = queue.Queue(), queue.Queue()
    return Recording(a, b, 60), Recording(b, a, 60)


class SeededNoise:
    """A deterministic Paillier noise source (test double): same seed, same factors."""

    def __init__(self, pk, seed):
        self.pk, self.rng = pk, random.Random(seed)

    def take(self, count):
        n, n2 = self.pk.n, self.pk.nsquare
        return [pow(self.rng.randrange(1, n), n, n2) for _ in range(count)]


class SeededSecrets:
    """Stands in for the `secrets` module where the cloud draws its masks."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def randbelow(self, k):
        return self.rng.randrange(k)


@pytest.fixture(scope="module")
def setting():
    program = compile_model("tiny", "paper", key_bits=768, kappa=KAPPA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(768)
    return program, pk, sk, publish_paper(program, pk)


@pytest.fixture(scope="module")
def run(setting):
    return run_protocol(*setting)


def run_protocol(program, pk, sk, model, user_noise=None):
    x = program.quantise_input(random_pixel_patches(3, 5, seed=11))
    user_ch, cloud_ch = recording_pair()
    sid = os.urandom(16)
    user, cloud = PaperUser(program, pk, sk, sid), PaperCloud(program, pk, model, sid)
    if user_noise is not None:
        user.noise = user_noise
    seen_y = []
    original = cloud.evaluator.run
    cloud.evaluator.run = lambda ch, st, rc: seen_y.append(original(ch, st, rc)) or seen_y[-1]

    def cloud_side():
        cloud.setup(cloud_ch)
        cloud.serve_batch(cloud_ch)
    t = threading.Thread(target=cloud_side)
    t.start()
    user.setup(user_ch)
    out = user.run_batch(user_ch, x)
    t.join()
    accs, acts = reference_intermediates(program, x)
    return dict(program=program, pk=pk, sk=sk, model=model, x=x, out=out, user=user_ch,
                cloud=cloud_ch, y_masked=seen_y, accs=accs, acts=acts)


def secrets_of(r):
    """Every weight, bias, input, pre-activation, activation and output value."""
    vals = set(int(v) for v in r["x"].ravel()) | set(int(v) for v in r["out"].ravel())
    for st in r["program"].dense:
        vals |= set(int(v) for v in st.layer.weights.ravel()) | set(int(v) for v in st.layer.bias)
        shift = st.layer.acc_frac - st.layer.bias_format.frac
        vals |= set(int(v) << shift for v in st.layer.bias)
    for a in r["accs"] + r["acts"]:
        vals |= set(int(v) for v in a.ravel())
    return vals


def ciphertexts(r, channel):
    return [P.loads_ciphertexts(r["pk"], p) for k, p in channel.received if k is Kind.CIPHERTEXTS]


def test_result_is_bit_exact(run):
    assert np.array_equal(run["out"], run["accs"][-1])


def test_cloud_plaintext_view_is_masked(run):
    """What the cloud learns in the clear (the decoded y' = t + r_u) hides t: every value is
    at least 2^l_a and at most kappa + 1 bits wider, and none is a secret of the run."""
    w_a = run["program"].model.activation_format.total
    ys = [v for batch in run["y_masked"] for v in batch]
    assert len(ys) == sum(a.size for a in run["acts"])
    assert all((1 << w_a) - (1 << (w_a - 1)) <= v < (1 << (w_a + KAPPA + 1)) for v in ys)
    assert not set(ys) & secrets_of(run)
    # the masks r_u = y' - t are spread over the whole kappa-bit range
    t = np.concatenate([a.ravel() for a in run["acts"]])
    masks = np.array(ys, dtype=object) - t.astype(object)
    assert max(masks).bit_length() >= w_a + KAPPA - 8 and min(masks) >= 1 << w_a


def test_cloud_receives_no_plaintext_integers(run):
    """Every frame the cloud receives is ciphertext, OT or garbled material: no secret value
    appears in it as a big-endian integer of any common width."""
    blobs = b"".join(p for _, p in run["cloud"].received)
    hits = 0
    for v in secrets_of(run):
        if abs(v) >= 1 << 15:        # short values occur by chance in random bytes
            for width in (4, 8):
                hits += blobs.count(int(v % (1 << (8 * width))).to_bytes(width, "big"))
    assert hits == 0


def test_every_ciphertext_to_the_user_is_fresh(run):
    """Decrypt-and-recover the randomness of every ciphertext the user receives: all distinct,
    and none reuses the randomness of a ciphertext the cloud holds or received."""
    sk = run["sk"]
    held = run["model"].weights + run["model"].biases + tuple(ciphertexts(run, run["cloud"]))
    held_r = {P.recover_randomness(sk, c) for group in held for c in group}
    got_r = [P.recover_randomness(sk, c) for group in ciphertexts(run, run["user"]) for c in group]
    assert len(set(got_r)) == len(got_r)
    assert not held_r & set(got_r)


def test_user_never_decrypts_a_weight(run):
    """Everything the user decrypts, except the final output frame, is masked: Erkin factors
    uniform mod n, pre-activations shifted by at least 2^acc with kappa bits of slack."""
    sk, n = run["sk"], run["pk"].n
    frames = ciphertexts(run, run["user"])
    secrets = secrets_of(run) - set(int(v) for v in run["out"].ravel())
    layers = run["program"].dense
    big = 0
    for cts in frames[:-1]:
        plain = P.decrypt(sk, cts)
        assert not set(plain) & {v % n for v in secrets}
        big += sum(v.bit_length() > 300 for v in plain)
    # Erkin requests are uniform mod n: almost all values are full size
    n_products = 2 * sum(L.layer.n_in * L.layer.n_out for L in layers) * len(run["x"])
    assert big >= 0.99 * n_products
    # masked pre-activations: x + r_c in [2^acc, 2^(acc + kappa + 1))
    act_frames = [f for f in frames[:-1] if len(f) == len(run["x"]) * 8]
    assert len(act_frames) == 2
    for L, cts, acc in zip(layers, act_frames, run["accs"]):
        seen = np.array(P.decrypt(sk, cts), dtype=object)
        masks = seen - acc.ravel().astype(object)       # what the user would need to remove
        bits = L.layer.acc_bits
        assert all((1 << bits) <= m < (1 << (bits + KAPPA)) for m in masks)
        assert len(set(masks)) == len(masks) and max(masks).bit_length() >= bits + KAPPA - 8


def test_cloud_rerandomises_everything_it_sends(setting, monkeypatch):
    """Run the same batch twice with every random choice fixed except the cloud's
    rerandomisation: same inputs, the cloud's masks a, b, r_c from one seed, the user's
    encryption noise and r_u from another. Every ciphertext the user receives must then
    decrypt to the same value in both runs and yet carry different randomness; a frame the
    cloud forgot to rerandomise would come back identical."""
    program, pk, sk, model = setting
    views = []
    for _ in range(2):
        monkeypatch.setattr(paper_linear, "secrets", SeededSecrets(1))
        monkeypatch.setattr(garbled_activation, "secrets", SeededSecrets(2))
        r = run_protocol(program, pk, sk, model, user_noise=SeededNoise(pk, 3))
        views.append([c for group in ciphertexts(r, r["user"]) for c in group])
    a, b = views
    assert len(a) == len(b) > 0
    assert P.decrypt(sk, a) == P.decrypt(sk, b)          # the harness fixed everything else
    ra = [P.recover_randomness(sk, c) for c in a]
    rb = [P.recover_randomness(sk, c) for c in b]
    assert all(x != y for x, y in zip(ra, rb))

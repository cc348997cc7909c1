"""The harness of the packed attack tests (the overview is in conftest.py): a channel end that
records every frame it receives, the recorded run itself, and the checks and views of it that
several test files share. Imported as a sibling module, like the other tests' *_testkit.py."""
import os
import queue
import warnings

import pytest

from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import HEADER, MAGIC, VERSION, InProcessChannel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.packed.cloud import PackedCloud
from veil.backends.yao.lowerings.packed.user import PackedUser
from veil.models.crosscheck import random_pixel_patches

from ...secure_testkit import both, reference_intermediates   # tests/yao/secure_testkit.py


KAPPA = 40
BITS = 512            # splits tiny's first layer over 2 blocks, and is quick
PATCHES = 4
BATCHES = 2           # the same patches twice: every mask must be fresh per batch


# -- harness ----------------------------------------------------------------------------------
class Recording(InProcessChannel):
    """Keeps every frame this end receives, tagged with the phase, and the kinds it sends."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.phase = "setup"
        self.received: list[tuple[str, Kind, bytes]] = []
        self.sent: list[Kind] = []

    def recv(self, expected, max_payload=None):
        payload = super().recv(expected, max_payload)
        self.received.append((self.phase, expected, payload))
        return payload

    def send(self, kind, payload):
        self.sent.append(kind)
        super().send(kind, payload)


def recording_pair(timeout=60.0):
    a, b = queue.Queue(), queue.Queue()
    return Recording(a, b, timeout), Recording(b, a, timeout)


def quiet_keys(bits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return P.generate_keypair(bits)


def fingerprint(payload: bytes) -> bytes:
    """The key fingerprint in a Paillier ciphertext array's header (paillier_codec)."""
    return payload[10:26]


def frames(ch: Recording, kind: Kind, phase: str | None = None) -> list[bytes]:
    return [p for ph, k, p in ch.received if k is kind and phase in (None, ph)]


def cts_under(ch: Recording, pk, phase: str | None = None) -> list[list]:
    """Every ciphertext frame this end received under `pk`, decoded."""
    return [P.loads_ciphertexts(pk, p) for p in frames(ch, Kind.CIPHERTEXTS, phase)
            if fingerprint(p) == pk.fingerprint]


def shifted_bias(layer) -> list[int]:
    return [int(b) << (layer.acc_frac - layer.bias_format.frac) for b in layer.bias]


def corrections(layer, s_row, m_row) -> list[int]:
    """The slot values of A = pack(W s - b + m) for one patch (s None on layer 1)."""
    b = shifted_bias(layer)
    W = layer.weights.tolist()
    ws = [0] * layer.n_out if s_row is None else [sum(w * v for w, v in zip(row, s_row))
                                                   for row in W]
    return [c - bi + mi for c, bi, mi in zip(ws, b, m_row)]


def normalised(masks, bits):
    """Masks drawn from [2^bits, 2^(bits + kappa)), checked in range, mapped to [0, 1)."""
    lo, hi = 1 << bits, 1 << (bits + KAPPA)
    masks = [int(v) for v in masks]
    assert all(lo <= v < hi for v in masks), f"a mask outside [2^{bits}, 2^{bits + KAPPA})"
    return [(v - lo) / (hi - lo) for v in masks]


def assert_spread(u, what):
    """Normalised masks look uniform on [0, 1): distinct, both ends of the range reached,
    centred, top 4 bits balanced (over >= 100 samples each check fails with p < 1e-5)."""
    assert len(u) >= 100, what
    assert len(set(u)) == len(u), f"{what}: a mask repeats"
    assert min(u) < 0.1 and max(u) > 0.9, f"{what}: masks do not cover the kappa-bit range"
    assert abs(sum(u) / len(u) - 0.5) < 0.12, f"{what}: masks are not centred"
    top = [int(x * 16) for x in u]
    chi2 = sum((top.count(b) - len(u) / 16) ** 2 / (len(u) / 16) for b in range(16))
    assert chi2 < 50, f"{what}: top bits not uniform (chi2 {chi2:.1f}, 15 dof)"


def assert_hides(values, secret_bits, mask_bits, what):
    """Each value is some secret v in [-2^(secret_bits-1), 2^(secret_bits-1)) plus a mask
    uniform in [2^mask_bits, 2^(mask_bits + kappa)). Check that every possible secret is
    consistent with every value seen: then the value's likelihood is the same whatever the
    secret, and it tells the party nothing. Only a value within 2^secret_bits of either end
    of the mask range narrows the secret down: probability about 2^(secret_bits - mask_bits
    - kappa) per value."""
    lo, hi = 1 << mask_bits, (1 << (mask_bits + KAPPA)) - 1
    v_min, v_max = -(1 << (secret_bits - 1)), (1 << (secret_bits - 1)) - 1
    for v in values:
        assert v - v_max >= lo and v - v_min <= hi, f"{what}: {v} narrows the secret down"


def low_bits_hits(values, secrets, bits) -> int:
    """An attacker reading each secret off the low `bits` bits of its masked value (as a
    signed number): right only if the mask is 0 mod 2^bits, chance 2^-bits per value."""
    half, full = 1 << (bits - 1), 1 << bits
    return sum((v % full) - full * (v % full >= half) == t for v, t in zip(values, secrets))


# -- the recorded run -------------------------------------------------------------------------


def the_patches(program):
    x = program.quantise_input(random_pixel_patches(PATCHES, 5, seed=7))
    fmt = program.model.input_format
    x[0, 0], x[-1, -1] = fmt.min_int, fmt.max_int
    return x


def recorded_run(setting, switch_after=None):
    program, (pk_u, sk_u), (pk_c, sk_c), model = setting
    x = the_patches(program)
    u_ch, c_ch = recording_pair()
    sid = os.urandom(16)
    user = PackedUser(program, pk_u, sk_u, sid)
    cloud = PackedCloud(program, pk_u, model, sid, (pk_c, sk_c))
    cap: dict[str, dict[str, list]] = {}
    phase = ["setup"]

    def spy(name, fn):
        def wrapped(*a, **k):
            out = fn(*a, **k)
            cap.setdefault(phase[0], {}).setdefault(name, []).append(out)
            return out
        return wrapped

    def set_phase(name):
        phase[0] = u_ch.phase = c_ch.phase = name

    with pytest.MonkeyPatch.context() as mp:
        for name in ("draw_weight_masks", "draw_input_masks", "draw_slot_masks",
                     "draw_accumulator_masks", "cloud_decode"):
            mp.setattr(L, name, spy(name, getattr(L, name)))
        mp.setattr(user.evaluator, "finish", spy("y_masked", user.evaluator.finish))
        both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch), u_ch, c_ch)
        if switch_after is not None:
            user.noise_c.switch_after = cloud.noise_u.switch_after = switch_after
        batches, outs = [], []
        for i in range(BATCHES):
            set_phase(f"prepare{i}")
            ub, cb = both(lambda: user.prepare(u_ch, PATCHES), lambda: cloud.prepare(c_ch),
                          u_ch, c_ch)
            set_phase(f"online{i}")
            out, served = both(lambda: user.run_online(u_ch, ub, x),
                               lambda: cloud.serve_online(c_ch, cb), u_ch, c_ch)
            assert served == PATCHES
            batches.append((ub, cb))
            outs.append(out)
    accs, acts = reference_intermediates(program, x)
    layers = [st.layer for st in program.dense]
    per_batch = []
    for i, (ub, cb) in enumerate(batches):
        pc, oc = cap[f"prepare{i}"], cap[f"online{i}"]
        per_batch.append(dict(
            s=[None] + pc["draw_input_masks"], m=pc["draw_slot_masks"],
            r_c=pc["draw_accumulator_masks"], decoded=oc["cloud_decode"],
            y_masked=oc["y_masked"], user=ub, cloud=cb))
    assert [b["m"] for b in per_batch] == [cb.m for _, cb in batches]
    assert [b["r_c"] for b in per_batch] == [ub.r_c for ub, _ in batches]
    return dict(program=program, layers=layers, shapes=user.shapes, pk_u=pk_u, sk_u=sk_u,
                subset_pools=(user.noise_c._pool is not None, cloud.noise_u._pool is not None),
                pk_c=pk_c, sk_c=sk_c, model=model, x=x, outs=outs, user=u_ch, cloud=c_ch,
                R=cap["setup"]["draw_weight_masks"], batches=per_batch, accs=accs, acts=acts)


# -- what each party must not learn -----------------------------------------------------------


def received_V(run) -> list[list[list[int]]]:
    """V per layer, exactly as the user gets it: its provisioning frames under its key."""
    frames_u = cts_under(run["user"], run["pk_u"], "setup")
    assert len(frames_u) == len(run["shapes"])
    return [L.unmask_columns(run["sk_u"], cts, sh) for cts, sh in zip(frames_u, run["shapes"])]


def correction_values(run):
    """Per batch, per layer: (c = W s - b, m) per patch, as flat lists over patches."""
    out = []
    for b in run["batches"]:
        per_layer = []
        for layer, s, m in zip(run["layers"], b["s"], b["m"]):
            cs = [[v - mi for v, mi in zip(corrections(layer, None if s is None else s[p], m[p]),
                                            m[p])] for p in range(PATCHES)]
            per_layer.append((cs, m))
        out.append(per_layer)
    return out


def user_secrets(run) -> set[int]:
    """What the user must not learn: the model (W, b, R), the hidden pre-activations and
    activations, the cloud's masks s and m, and the corrections' plain part W s - b."""
    vals = set()
    for layer, R in zip(run["layers"], run["R"]):
        vals |= set(int(v) for v in layer.weights.ravel()) | set(int(v) for v in layer.bias)
        vals |= set(shifted_bias(layer)) | {-v for v in shifted_bias(layer)}
        vals |= {v for row in R for v in row}
    for a in run["accs"][:-1] + run["acts"]:
        vals |= set(int(v) for v in a.ravel())
    for b, per_layer in zip(run["batches"], correction_values(run)):
        vals |= {v for cs, _ in per_layer for row in cs for v in row}
    return vals | all_of(run, "s") | all_of(run, "m")


def all_of(run, name) -> set[int]:
    """Every value of one kind of per-batch mask (s or m) over both batches."""
    return {v for b in run["batches"] for layer in b[name] if layer is not None
            for row in layer for v in row}


# -- raw frames, for the malformed-message tests ----------------------------------------------


def frame(kind: Kind, payload: bytes) -> bytes:
    return HEADER.pack(MAGIC, VERSION, int(kind), len(payload)) + payload


def endpoint(*raw: bytes, close: bool = False) -> Recording:
    """A party's end whose inbox holds the given raw frames (then a close, if asked)."""
    inbox, outbox = queue.Queue(), queue.Queue()
    for r in raw:
        inbox.put(r)
    if close:
        inbox.put(None)
    return Recording(inbox, outbox, 2.0)

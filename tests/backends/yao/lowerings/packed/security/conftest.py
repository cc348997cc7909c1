"""Attacks on the packed lowering's invariants (PROTOCOL.md; docs/protocol.md, "packed").

A run of `tiny` (two batches of the same patches, after provisioning) is recorded frame by
frame at both parties, with every mask the parties drew (captured by wrapping the draw
functions) and the plaintext reference's intermediate values at hand. Each test then looks at
what one party actually received, the way a curious party would:

* the cloud's clear view: x + r_c per slot of D, the batch size, nothing else
  (test_cloud_view.py, test_frames.py, test_frame_bytes.py);
* the user's view of the weights: V = W + R, once (test_weights_V.py);
* the corrections A = pack(W s - b + m) and the garbled outputs y' = t + s the user decodes
  (test_corrections.py, test_garbled_outputs.py; its frames in test_frames.py and
  test_frame_bytes.py);
* the randomness of every ciphertext that crosses, fresh factor by fresh factor (and, as the
  key owner sees it, character by character) (test_randomness.py,
  test_randomness_characters.py);
* malformed messages, refused by the receiver before it uses them (test_malformed_*.py).
Each mask's range and its source (the `secrets` CSPRNG) are pinned down separately, since a
floor one bit short is a 2^-kappa event that no run shows (test_masks.py).

The harness is packed_security_kit.py. The fixtures below are package-scoped: the keys, the
model and the two recorded runs are built once for the whole directory."""
import os

import pytest

from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.lowerings.packed.cloud import PackedCloud
from veil.backends.yao.lowerings.packed.model import PackedOwner, receive_packed_model
from veil.backends.yao.lowerings.packed.user import PackedUser
from veil.models.catalog import compile_model
from veil.compiler.program import SecurityParams

from .packed_security_kit import BITS, KAPPA, both, quiet_keys, recorded_run


@pytest.fixture(scope="package")
def setting():
    program = compile_model("tiny", "packed", key_bits=BITS, kappa=KAPPA)
    user_keys = quiet_keys(BITS)
    while True:          # one honest key in four: 3 divides p - 1 and q - 1 (cubic characters)
        cloud_keys = quiet_keys(BITS)
        if (cloud_keys[1].p - 1) % 3 == 0 and (cloud_keys[1].q - 1) % 3 == 0:
            break
    a, b = InProcessChannel.pair()
    model, _ = both(lambda: receive_packed_model(b, program, user_keys[0]),
                    lambda: PackedOwner(program).publish(a, user_keys[0]), b, a)
    return program, user_keys, cloud_keys, model


@pytest.fixture(scope="package")
def run(setting):
    return recorded_run(setting)


@pytest.fixture(scope="package")
def subset_run(setting):
    """The same, with every uniform factor a subset product of a pool (what a long job uses)."""
    return recorded_run(setting, switch_after=0)


@pytest.fixture(scope="package")
def parties(setting):
    """A provisioned user and cloud with an open session."""
    program, (pk_u, sk_u), cloud_keys, model = setting
    sid = os.urandom(16)
    user = PackedUser(program, pk_u, sk_u, sid)
    cloud = PackedCloud(program, pk_u, model, sid, cloud_keys)
    a, b = InProcessChannel.pair()
    both(lambda: user.setup(a), lambda: cloud.setup(b), a, b)
    return user, cloud


@pytest.fixture
def spies(monkeypatch):
    """Counts calls of the functions that would use a received value."""
    calls = {}
    for name in ("cloud_corrections", "user_corrections", "cloud_decode", "unmask_columns",
                 "user_columns"):
        fn = getattr(L, name)

        def wrapped(*a, _fn=fn, _name=name, **k):
            calls[_name] = calls.get(_name, 0) + 1
            return _fn(*a, **k)
        monkeypatch.setattr(L, name, wrapped)
    return calls

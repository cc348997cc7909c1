"""Both lowerings behind one interface: a driver that knows only lowerings/parties.py runs
each to the plaintext reference's result; the upload and the provisioning survive being
stored as blobs and restored, and a restored cloud resends the very same provisioning."""
import os
import warnings

import numpy as np
import pytest

from veil.backends.plaintext import PlaintextBackend
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.lowerings.catalog import parties_for
from veil.backends.yao.lowerings.parties import Cloud, EncryptedModel, Owner, User
from veil.compiler.program import Lowering
from veil.models.catalog import compile_model

from .secure_testkit import both

BITS = 768
pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


class Recorder(InProcessChannel):
    """An in-process channel end that keeps every frame it sends."""

    def _send_bytes(self, data: bytes) -> None:
        self.frames.append(data)
        super()._send_bytes(data)


def recording_pair():
    a, b = InProcessChannel.pair()
    rec = Recorder(a._inbox, a._outbox, 600.0)
    rec.frames = []
    return rec, b


def upload(program, parties, pk):
    cloud_end, owner_end = InProcessChannel.pair()
    model, _ = both(lambda: parties.model.receive(cloud_end, program, pk),
                    lambda: parties.owner(program).publish(owner_end, pk), cloud_end, owner_end)
    return model


@pytest.fixture(scope="module")
def keys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return P.generate_keypair(BITS)


@pytest.mark.parametrize("lowering", list(Lowering))
def test_one_driver_runs_every_lowering(keys, lowering):
    program = compile_model("tiny", lowering.value, key_bits=BITS)
    parties = parties_for(program.lowering)
    assert issubclass(parties.owner, Owner) and issubclass(parties.user, User)
    assert issubclass(parties.cloud, Cloud) and issubclass(parties.model, EncryptedModel)
    pk, sk = keys
    model = upload(program, parties, pk)
    sid = os.urandom(16)
    user, cloud = parties.user(program, pk, sk, sid), parties.cloud(program, pk, model, sid)
    u_ch, c_ch = InProcessChannel.pair()
    both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch), u_ch, c_ch)
    x = program.quantise_input(np.random.default_rng(1).uniform(0, 255, (3, 25)))
    prepared, cloud_batch = both(lambda: user.prepare(u_ch, len(x)), lambda: cloud.prepare(c_ch),
                                 u_ch, c_ch)
    out, served = both(lambda: user.run_online(u_ch, prepared, x),
                       lambda: cloud.serve_online(c_ch, cloud_batch), u_ch, c_ch)
    assert served == len(x)
    assert np.array_equal(out, PlaintextBackend().run_fixed(program, x))


@pytest.mark.parametrize("lowering", list(Lowering))
def test_stored_model_and_provisioning_come_back_identical(keys, lowering):
    program = compile_model("tiny", lowering.value, key_bits=BITS)
    parties = parties_for(program.lowering)
    pk, _ = keys
    model = upload(program, parties, pk)
    blobs = model.blobs(pk)
    again = parties.model.from_blobs(program, pk, blobs.__getitem__)
    assert again == model and again.blobs(pk) == blobs

    first = parties.cloud(program, pk, model, os.urandom(16))
    stored = first.provision()
    restored = parties.cloud(program, pk, again, os.urandom(16))
    restored.restore(stored.__getitem__)
    sent = []
    for cloud in (first, restored):
        rec, peer = recording_pair()
        cloud.send_provisioning(rec)
        sent.append(rec.frames)
    assert sent[0] == sent[1]
    assert (len(sent[0]) > 0) == (lowering is Lowering.PACKED)     # paper provisions nothing

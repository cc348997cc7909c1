"""Shared by the secure-backend tests (test_packed_protocol.py, packed_security/,
test_paper_security.py): run the two parties; the reference's intermediate values.

Imported as a sibling module; tests/yao/conftest.py puts this directory on sys.path for the
tests in its subdirectories too."""
import os
import threading
import warnings

from veil.backends.plaintext import dense_exact
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.lowerings.packed.cloud import PackedCloud
from veil.backends.yao.lowerings.packed.model import PackedOwner, receive_packed_model
from veil.backends.yao.lowerings.packed.user import PackedUser


class RecordingChannel(InProcessChannel):
    """An in-process channel end that keeps the payload of every frame of `kind` it receives
    (what this party actually got, for the attack tests)."""

    def __init__(self, kind, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind, self.payloads = kind, []

    def recv(self, expected, max_payload=None):
        payload = super().recv(expected, max_payload)
        if expected is self.kind:
            self.payloads.append(payload)
        return payload


def ot_session(recorded_kind):
    """A garbler's and an evaluator's channel ends (the evaluator's records frames of
    `recorded_kind`) with the OT extension's base OTs done: (sender, g_ch, receiver, e_ch)."""
    import queue
    from veil.backends.yao.framing.kinds import Kind
    from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
    from veil.backends.yao.ot.messages import BaseOTStart
    a, b = queue.Queue(), queue.Queue()
    g_ch, e_ch = InProcessChannel(a, b, 60.0), RecordingChannel(recorded_kind, b, a, 60.0)
    sid = os.urandom(16)
    sender, receiver = OTExtSender(sid), OTExtReceiver(sid)

    def evaluator_setup():
        e_ch.send(Kind.OT, receiver.setup().to_bytes())
        receiver.finish_setup(e_ch.recv(Kind.OT))
    both(evaluator_setup, lambda: g_ch.send(Kind.OT, sender.setup(
        BaseOTStart.from_bytes(g_ch.recv(Kind.OT))).to_bytes()), e_ch, g_ch)
    return sender, g_ch, receiver, e_ch


def both(user_side, cloud_side, u_ch=None, c_ch=None):
    """user_side here, cloud_side in a thread; both results, (user's, cloud's); the first error
    re-raised. A side that fails closes its channel end (given), so the other stops at once
    instead of timing out."""
    out, err = {}, []

    def run():
        try:
            out["cloud"] = cloud_side()
        except BaseException as exc:
            err.append(exc)
            if c_ch is not None:
                c_ch.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        user = user_side()
    except BaseException:
        if u_ch is not None:
            u_ch.close()
        raise
    finally:
        t.join(120)
    if err:
        raise err[0]
    if t.is_alive():
        raise TimeoutError("the cloud side did not finish within 120 s of the user side")
    return user, out["cloud"]


def reference_intermediates(program, x):
    """The plaintext reference's accumulators per dense layer and activation outputs, to
    recognise leaks of them in what a party received."""
    accs, acts, y = [], [], x
    for st in program.dense:
        acc = dense_exact(st.layer, y)
        accs.append(acc)
        act = program.activation(st.layer.index)
        if act is not None:
            y = act.table.reference(acc)
            acts.append(y)
    return accs, acts


def packed_parties(program, bits: int):
    """A packed user and cloud for `program` with fresh `bits`-bit keys (quietly: test sizes),
    the model uploaded by its owner; nothing provisioned yet. -> (user, cloud, u_ch, c_ch)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(bits)
        cloud_keys = P.generate_keypair(bits)
    a, b = InProcessChannel.pair()
    model, _ = both(lambda: receive_packed_model(b, program, pk),
                    lambda: PackedOwner(program).publish(a, pk), b, a)
    sid = os.urandom(16)
    user, cloud = PackedUser(program, pk, sk, sid), PackedCloud(program, pk, model, sid, cloud_keys)
    u_ch, c_ch = InProcessChannel.pair()
    return user, cloud, u_ch, c_ch

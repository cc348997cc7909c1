"""What crosses the wire, frame by frame: each party receives only the frame kinds, keys and
counts the protocol calls for, in the phase it calls for them (the cloud: the batch size in
the clear and D under its own key; the user: V, Enc_c(-R), E and the output frames)."""
import pytest

from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.framing.payloads import unpack_ints

from .packed_security_kit import BATCHES, PATCHES, cts_under, fingerprint, frames

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def test_cloud_receives_only_the_batch_size_in_the_clear(run):
    """The cloud receives OT messages, D under its own key and one INTEGERS frame per batch,
    the batch size: nothing else, and nothing under the user's key."""
    ch = run["cloud"]
    assert {k for _, k, _ in ch.received} <= {Kind.OT, Kind.CIPHERTEXTS, Kind.INTEGERS}
    ints = frames(ch, Kind.INTEGERS)
    assert [unpack_ints(p, 1 << 16) for p in ints] == [[PATCHES]] * BATCHES
    assert [ph for ph, k, _ in ch.received if k is Kind.INTEGERS] == [
        f"prepare{i}" for i in range(BATCHES)]
    cts = frames(ch, Kind.CIPHERTEXTS)
    assert len(cts) == BATCHES * len(run["layers"])
    assert all(fingerprint(p) == run["pk_c"].fingerprint for p in cts)
    assert not frames(ch, Kind.CIPHERTEXTS, "setup")
    assert not any(frames(ch, Kind.CIPHERTEXTS, f"prepare{i}") for i in range(BATCHES))


def test_user_receives_no_other_decryptable_value(run):
    """Under the user's key the user receives V once per layer (provisioning) and E per
    layer per batch, nothing online; under the cloud's key only Enc_c(-R), at provisioning;
    in the clear only the output frame, one per batch."""
    ch, n_layers = run["user"], len(run["layers"])
    assert len(cts_under(ch, run["pk_u"], "setup")) == n_layers
    assert len(cts_under(ch, run["pk_c"], "setup")) == n_layers
    for i in range(BATCHES):
        assert len(cts_under(ch, run["pk_u"], f"prepare{i}")) == n_layers
        assert not cts_under(ch, run["pk_c"], f"prepare{i}")
        assert not frames(ch, Kind.CIPHERTEXTS, f"online{i}")
    assert [ph for ph, k, _ in ch.received if k is Kind.INTEGERS] == [
        f"online{i}" for i in range(BATCHES)]
    assert len(frames(ch, Kind.CIPHERTEXTS)) == 2 * n_layers + BATCHES * n_layers

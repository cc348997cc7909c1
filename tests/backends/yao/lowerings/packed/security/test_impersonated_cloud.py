"""Whoever plays the cloud (issue 11, finding 1): the user checks what it receives before it
sends anything that depends on its image.

The attacks run the real user against an Impersonator (impersonator_kit.py) over in-process
channels and look at what the user sent and what the impersonator read from it. Before the
checks, every one of them read every pixel of every patch from the user's first D. What the
checks cannot stop, a cloud that sends well-formed messages under its own proper key, is
the last test here, an expected failure (docs/protocol.md, "What a malicious cloud can still
do"): only authenticating the cloud stops it.
"""
import re

import pytest

from veil.backends.yao.framing.channel import ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.packed.cloud import PackedCloud

from .impersonator_kit import Impersonator, run_against
from .packed_security_kit import BITS, quiet_keys

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


@pytest.fixture(scope="module")
def wide_keys():
    """A key pair twice the user's size: room for a whole patch above one block's masks."""
    return quiet_keys(2 * BITS)


def impersonator(keys, style):
    return lambda program, pk_u, sid: Impersonator(program, pk_u, keys, style, sid)


def keys_for(size, setting, wide_keys):
    return wide_keys if size == "wider key" else setting[2]


def assert_refused(outcome, match):
    error, sent, cloud, patches = outcome
    read = getattr(cloud, "recovered", None)
    if read is not None:
        pytest.fail(f"the impersonator read the user's patches from D "
                    f"({'every pixel exactly' if read == patches else 'in part'}): read "
                    f"{read[0][:8]}..., the patch is {patches[0][:8]}...")
    assert isinstance(error, ProtocolError), f"the user did not refuse: {error!r}"
    assert re.search(match, str(error)), str(error)
    assert Kind.CIPHERTEXTS not in sent, "the user sent D"


@pytest.mark.parametrize("size", ["wider key", "same size"])
def test_impersonated_cloud_reads_no_pixel(setting, wide_keys, size):
    """The issue's attack: V = 0, E = Enc_u(0), Enc_c(-R') placing each pixel in high bits.
    Refused at the key's size, or (same size) at V's range."""
    outcome = run_against(setting, impersonator(keys_for(size, setting, wide_keys), "zero"))
    assert_refused(outcome, "has 1024 bits, the program's keys have 512" if size == "wider key"
                   else r"V = W \+ R outside its range")


@pytest.mark.parametrize("size", ["wider key", "same size"])
def test_relay_without_the_users_key_reads_no_pixel(setting, wide_keys, size):
    """The relay: every ciphertext under the user's key is the integer 1 (needs no key)."""
    outcome = run_against(setting, impersonator(keys_for(size, setting, wide_keys), "one"))
    assert_refused(outcome, "has 1024 bits" if size == "wider key" else "carries no randomness")


def test_honest_cloud_with_a_wider_key_is_refused(setting, wide_keys):
    """Any size at least the user's was accepted; now exactly the program's."""
    program, pk_u, model = setting[0], setting[1][0], setting[3]
    error, sent, _, _ = run_against(
        setting, lambda prog, pk, sid: PackedCloud(prog, pk, model, sid, wide_keys))
    assert error is not None, "the user ran a batch with a 1024-bit cloud key"
    assert "has 1024 bits, the program's keys have 512" in str(error)
    assert sent == []


@pytest.mark.xfail(strict=True, reason="a cloud that sends well-formed messages under its own "
                   "proper key reads the patch: only its authentication stops it "
                   "(docs/protocol.md, 'What a malicious cloud can still do')")
def test_well_formed_impersonator_reads_no_pixel(setting):
    """V' and A in their honest ranges, fresh randomness everywhere, a proper key of the
    program's size: no check of the user's can tell it from the cloud."""
    assert_refused(run_against(setting, impersonator(setting[2], "well_formed")), "")

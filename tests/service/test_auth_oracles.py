"""Login leaks nothing (issue 11, finding 6), attacked from both ends.

A prober who names (user id, model) pairs to a live server must get the same frames, of the
same sizes, the same message and in the same time, whether the pair exists, the user exists
without that model, or neither: otherwise it enumerates who uses which model. And a cloud
that sends the user a challenge must learn nothing from how the user refuses it: a refusal
that said "not 32 bytes" for one ciphertext and "does not match its commitment" for another
told an impersonated cloud one bit about any ciphertext under the user's key per connection.
"""
import hashlib
import os
import statistics
import threading
import time
import warnings

import pytest

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.paillier.codec import HEADER_SIZE
from veil.service import auth
from veil.service.auth import AuthError, authenticate_user, prove_identity
from veil.service.client import connect
from veil.service.decoys import DecoyKeys
from veil.service.error_frames import recv_or_error
from veil.service.frames import ServiceKind

from .net_testkit import host_port, running

BITS = 512
HEAD = auth.ID_BYTES + auth.NONCE_BYTES + 32          # connection id, nonce, commitment
ALICE, MODEL = "a" * 64, "compact"


def quiet_keys(bits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return P.generate_keypair(bits)


@pytest.fixture(scope="module")
def alice():
    return quiet_keys(BITS)


def server_for(pk, bits=BITS):
    """A live server whose only user, ALICE, has only MODEL."""
    decoys = DecoyKeys(os.urandom(32), bits)

    def handler(channel, peer):
        authenticate_user(channel, lambda u, m: pk if (u, m) == (ALICE, MODEL) else None,
                          user_key=lambda u: pk if u == ALICE else None, decoys=decoys)
    return running(handler, timeout=10)


def probe(server, user, model):
    """What a prober sees: the first frame's kind and size, the ciphertext header without its
    fingerprint, and the server's answer to a random answer, names blanked out."""
    ch = connect(host_port(server), timeout=10)
    ch.send(ServiceKind.AUTH_HELLO, auth._name(user, "u") + auth._name(model, "m"))
    kind, payload = ch.recv_any((ServiceKind.AUTH_CHALLENGE, ServiceKind.ERROR), 1 << 16)
    view = {"kind": kind.name, "size": len(payload)}
    if kind is ServiceKind.AUTH_CHALLENGE:
        header = payload[HEAD:HEAD + HEADER_SIZE]
        view["header"] = header[:10] + header[26:]
        view["fingerprint"] = header[10:26]
        ch.send(ServiceKind.AUTH_ANSWER, os.urandom(32))
        kind, payload = ch.recv_any((ServiceKind.AUTH_OK, ServiceKind.ERROR), 4096)
        view["reply"] = (kind.name, payload.decode().replace(user, "U").replace(model, "M"))
    ch.close()
    return view


def test_known_and_unknown_pairs_look_alike(alice):
    stranger, other = hashlib.sha256(b"carol").hexdigest(), "another-model"
    with server_for(alice[0]) as server:
        views = {pair: probe(server, *pair) for pair in
                 [(ALICE, MODEL), (ALICE, other), (stranger, MODEL), (stranger, other)]}
        again = probe(server, stranger, MODEL)
    prints = {pair: v.pop("fingerprint", None) for pair, v in views.items()}
    assert all(v == views[ALICE, MODEL] for v in views.values()), views
    assert prints[ALICE, other] == prints[ALICE, MODEL] == alice[0].fingerprint
    assert again["fingerprint"] == prints[stranger, MODEL] == prints[stranger, other]
    assert prints[stranger, MODEL] != alice[0].fingerprint


@pytest.fixture(scope="module")
def real_size_key():
    return P.generate_keypair(2048)


def test_known_and_unknown_pairs_take_as_long(real_size_key):
    """Time from hello to challenge at 2048 bits: a real encryption takes ~10 ms, a refusal
    without one ~0.1 ms. Medians of 9 probes each may differ by a factor 3 (load)."""
    def timed(server, user):
        ch = connect(host_port(server), timeout=10)
        t0 = time.perf_counter()
        ch.send(ServiceKind.AUTH_HELLO, auth._name(user, "u") + auth._name(MODEL, "m"))
        ch.recv_any((ServiceKind.AUTH_CHALLENGE, ServiceKind.ERROR), 1 << 16)
        dt = time.perf_counter() - t0
        ch.close()
        return dt
    with server_for(real_size_key[0], 2048) as server:
        known, unknown = [], []
        for i in range(9):
            known.append(timed(server, ALICE))
            unknown.append(timed(server, hashlib.sha256(b"%d" % i).hexdigest()))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 1 / 3 < ratio < 3, f"unknown / known: {ratio:.2f} (known {known}, unknown {unknown})"


def fake_cloud_challenge(pk, plaintext, commit_to):
    nonce = os.urandom(32)
    commitment = hashlib.sha256(b"veil-auth-commit" + nonce + commit_to).digest()
    return os.urandom(16) + nonce + commitment + P.dumps_ciphertexts(pk, P.encrypt(pk, [plaintext]))


def users_reply(sk, challenge):
    """Run the user against a fake cloud that sends `challenge`; what the cloud receives."""
    cloud, user = InProcessChannel.pair(timeout=5)
    errors = []
    thread = threading.Thread(target=lambda: errors.append(
        pytest.raises(AuthError, prove_identity, user, sk, ALICE, MODEL)))
    thread.start()
    cloud.recv(ServiceKind.AUTH_HELLO)
    cloud.send(ServiceKind.AUTH_CHALLENGE, challenge)
    kind, payload = cloud.recv_any((ServiceKind.AUTH_ANSWER, ServiceKind.ERROR), 4096)
    thread.join(5)
    assert errors, "the user answered"
    return kind.name, payload


def test_the_users_refusals_are_identical(alice):
    """A challenge too wide to be 32 bytes, one whose commitment is wrong, one under another
    key, one cut short: the fake cloud gets the same ERROR frame, word for word."""
    pk, sk = alice
    value = int.from_bytes(os.urandom(32), "big")
    other = quiet_keys(BITS)[0]
    replies = {
        "wider than 32 bytes": users_reply(sk, fake_cloud_challenge(
            pk, value + (1 << 256), value.to_bytes(32, "big"))),
        "wrong commitment": users_reply(sk, fake_cloud_challenge(pk, value, os.urandom(32))),
        "another key": users_reply(sk, fake_cloud_challenge(other, value, value.to_bytes(32, "big"))),
        "cut short": users_reply(sk, os.urandom(HEAD - 1)),
    }
    assert len(set(replies.values())) == 1, replies
    assert replies["wrong commitment"][0] == "ERROR"

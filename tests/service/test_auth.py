"""Authentication by possession of the registered Paillier private key: the right key passes;
another user's key, a replayed answer, garbage, and a server that is not playing fair fail."""
import hashlib
import hmac
import os
import threading
import warnings

import pytest
from .net_testkit import host_port, running

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.framing.kinds import Kind
from veil.service import auth
from veil.service.auth import AuthError, authenticate_user, prove_identity
from veil.service.client import RemoteError, connect, recv_or_error
from veil.service.error_frames import send_error
from veil.service.frames import ServiceKind

MODEL = "compact"


@pytest.fixture(scope="module")
def keys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return {name: P.generate_keypair(512) for name in ("alice", "bob")}


@pytest.fixture(scope="module")
def lookup(keys):
    return lambda user, model: keys[user][0] if user in keys and model == MODEL else None


def run_server(lookup, channel):
    """authenticate_user in a thread; returns a dict that gets 'identity' or 'error'."""
    out = {}

    def target():
        try:
            out["identity"] = authenticate_user(channel, lookup)
        except Exception as e:
            out["error"] = e

    thread = threading.Thread(target=target)
    thread.start()
    out["thread"] = thread
    return out


def finished(out):
    out["thread"].join(5)
    return out


def read_challenge(channel, pk):
    payload = channel.recv(ServiceKind.AUTH_CHALLENGE)
    cid, nonce = payload[:16], payload[16:48]
    return cid, nonce, P.loads_ciphertexts(pk, payload[80:])


def hmac_answer(value, nonce, user, model, cid):
    return auth._answer((value % 2 ** 256).to_bytes(32, "big"), nonce, user, model, cid)


def test_right_key_passes(keys, lookup):
    server_end, user_end = InProcessChannel.pair(timeout=5)
    out = run_server(lookup, server_end)
    cid = prove_identity(user_end, keys["alice"][1], "alice", MODEL)
    identity = finished(out)["identity"]
    assert identity == auth.Identity("alice", MODEL, cid, keys["alice"][0])
    assert len(cid) == 16


def test_fresh_connection_ids(keys, lookup):
    cids = set()
    for _ in range(3):
        server_end, user_end = InProcessChannel.pair(timeout=5)
        out = run_server(lookup, server_end)
        cids.add(prove_identity(user_end, keys["alice"][1], "alice", MODEL))
        finished(out)
    assert len(cids) == 3


def test_another_users_key_is_refused_on_both_sides(keys, lookup):
    server_end, user_end = InProcessChannel.pair(timeout=5)
    out = run_server(lookup, server_end)
    with pytest.raises(AuthError, match="not under this private key's public key"):
        prove_identity(user_end, keys["bob"][1], "alice", MODEL)
    with pytest.raises(AuthError, match="'alice' gave up authenticating: refusing the server's challenge"):
        raise finished(out)["error"]


def test_answer_computed_with_another_users_key_fails(keys, lookup):
    server_end, user_end = InProcessChannel.pair(timeout=5)
    out = run_server(lookup, server_end)
    user_end.send(ServiceKind.AUTH_HELLO, auth._name("alice", "") + auth._name(MODEL, ""))
    cid, nonce, sealed = read_challenge(user_end, keys["alice"][0])
    wrong = P.decrypt(keys["bob"][1], [c % keys["bob"][0].nsquare for c in sealed])[0]
    user_end.send(ServiceKind.AUTH_ANSWER, hmac_answer(wrong, nonce, "alice", MODEL, cid))
    with pytest.raises(AuthError, match="user 'alice' for model 'compact' failed"):
        raise finished(out)["error"]


def test_replayed_answer_from_another_connection_fails(keys, lookup):
    a_server, a_user = InProcessChannel.pair(timeout=5)
    out = run_server(lookup, a_server)
    sent = []
    original = a_user.send
    a_user.send = lambda kind, payload: (sent.append((kind, bytes(payload))),
                                         original(kind, payload))
    prove_identity(a_user, keys["alice"][1], "alice", MODEL)
    assert "identity" in finished(out)
    recorded = dict(sent)[ServiceKind.AUTH_ANSWER]

    b_server, attacker = InProcessChannel.pair(timeout=5)
    out = run_server(lookup, b_server)
    attacker.send(ServiceKind.AUTH_HELLO, dict(sent)[ServiceKind.AUTH_HELLO])
    attacker.recv(ServiceKind.AUTH_CHALLENGE)
    attacker.send(ServiceKind.AUTH_ANSWER, recorded)
    with pytest.raises(AuthError, match="user 'alice' for model 'compact' failed"):
        raise finished(out)["error"]


@pytest.mark.parametrize("answer,message", [
    (os.urandom(32), "user 'alice' for model 'compact' failed"),
    (b"short", "user 'alice' for model 'compact' failed"),
    (os.urandom(100), "exceeds the limit of 32"),
    (b"", "user 'alice' for model 'compact' failed"),
], ids=["random-32", "short", "random-100", "empty"])      # stable ids: one collection per worker
def test_garbage_answers_fail(keys, lookup, answer, message):
    server_end, user_end = InProcessChannel.pair(timeout=5)
    out = run_server(lookup, server_end)
    user_end.send(ServiceKind.AUTH_HELLO, auth._name("alice", "") + auth._name(MODEL, ""))
    user_end.recv(ServiceKind.AUTH_CHALLENGE)
    user_end.send(ServiceKind.AUTH_ANSWER, answer)
    with pytest.raises(AuthError, match=message):
        raise finished(out)["error"]


@pytest.mark.parametrize("hello,message", [
    (b"", "truncated"),
    (b"\x00\x05alice", "truncated"),
    (b"\x00\x05alice\x00\x07compact!", "trailing"),
    (b"\x00\x02\xff\xfe\x00\x01m", "not UTF-8"),
    (b"\x00\x03a\nb\x00\x01m", "printable"),
    (b"\x00\x00\x00\x01m", "1 to 128 bytes"),
    (b"\x01\x00" + b"a" * 256 + b"\x00\x01m", "exceeds the limit"),
])
def test_malformed_hello_fails(lookup, hello, message):
    server_end, user_end = InProcessChannel.pair(timeout=5)
    out = run_server(lookup, server_end)
    user_end.send(ServiceKind.AUTH_HELLO, hello)
    with pytest.raises(AuthError, match=message):
        raise finished(out)["error"]


@pytest.mark.parametrize("user", ["", "a" * 129, "x\ny", "tab\there"])
def test_user_refuses_to_send_bad_names(keys, user):
    a, _ = InProcessChannel.pair(timeout=5)
    with pytest.raises(AuthError, match="printable UTF-8"):
        prove_identity(a, keys["alice"][1], user, MODEL)
    assert a.bytes_sent == 0


def test_user_is_not_a_decryption_oracle(keys):
    """A server that sends a ciphertext it cannot open (say an encrypted weight) gets no
    answer: the commitment does not match, and the user says why."""
    pk, sk = keys["alice"]
    server_end, user_end = InProcessChannel.pair(timeout=5)
    errors = []

    def user():
        try:
            prove_identity(user_end, sk, "alice", MODEL)
        except AuthError as e:
            errors.append(e)

    thread = threading.Thread(target=user)
    thread.start()
    server_end.recv(ServiceKind.AUTH_HELLO)
    nonce = os.urandom(32)
    guess = hashlib.sha256(b"veil-auth-commit" + nonce + os.urandom(32)).digest()
    server_end.send(ServiceKind.AUTH_CHALLENGE, os.urandom(16) + nonce + guess
                    + P.dumps_ciphertexts(pk, P.encrypt(pk, [1234])))
    with pytest.raises(RemoteError, match="^refusing the server's challenge"):
        recv_or_error(server_end, ServiceKind.AUTH_ANSWER, 32)
    thread.join(5)
    assert len(errors) == 1 and "does not open to its commitment" in str(errors[0])


def test_over_a_real_server(keys, lookup):
    def handler(channel, peer):
        who = authenticate_user(channel, lookup)
        channel.send(ServiceKind.DONE, who.user_id.encode())

    with running(handler, timeout=5) as server:
        ch = connect(host_port(server), timeout=5)
        prove_identity(ch, keys["bob"][1], "bob", MODEL)
        assert ch.recv(ServiceKind.DONE, max_payload=16) == b"bob"
        ch.close()
        ch = connect(host_port(server), timeout=5)      # an unknown user: a decoy challenge
        with pytest.raises(AuthError, match="for user 'carol' is not under this private key"):
            prove_identity(ch, keys["bob"][1], "carol", MODEL)
        ch.close()
        ch = connect(host_port(server), timeout=5)
        with pytest.raises(AuthError, match="not under this private key's public key"):
            prove_identity(ch, keys["alice"][1], "bob", MODEL)
        ch.close()


def test_the_keys_holder_learns_it_has_no_such_model(keys, lookup):
    """Only a right answer, which only the key's holder can give, tells a missing model from
    a wrong key."""
    server_end, user_end = InProcessChannel.pair(timeout=5)
    out = {}

    def target():
        try:
            authenticate_user(server_end, lookup, user_key=lambda u: keys[u][0] if u in keys
                              else None)
        except AuthError as e:
            out["error"] = e
            send_error(server_end, str(e))
    thread = threading.Thread(target=target)
    thread.start()
    with pytest.raises(AuthError, match="refused user 'alice': user 'alice' has no model 'tiny'"):
        prove_identity(user_end, keys["alice"][1], "alice", "tiny")
    thread.join(5)
    assert "has no model" in str(out["error"])


def test_the_answer_binds_every_field():
    challenge, nonce, cid = os.urandom(32), os.urandom(32), os.urandom(16)
    base = auth._answer(challenge, nonce, "alice", MODEL, cid)
    assert base == hmac.new(challenge, b"veil-auth" + nonce + b"\x00\x05alice"
                            + b"\x00\x07compact" + cid, hashlib.sha256).digest()
    others = [auth._answer(os.urandom(32), nonce, "alice", MODEL, cid),
              auth._answer(challenge, os.urandom(32), "alice", MODEL, cid),
              auth._answer(challenge, nonce, "alicf", MODEL, cid),
              auth._answer(challenge, nonce, "alice", "compacu", cid),
              auth._answer(challenge, nonce, "alice", MODEL, os.urandom(16))]
    assert base not in others

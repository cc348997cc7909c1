"""Attacks on publishing, against a real server on 127.0.0.1: only an allowed owner's signed
manifest is accepted, checked before anything else is done with it; a name stays with its
first owner; a replayed or tampered manifest, a swapped upload, a spec that names a file,
compile bombs (weights, an activation) and a huge key are refused, and the reply tells
nothing about the cloud's files (the user's side: test_owner_pub.py)."""
from __future__ import annotations

import hashlib
import secrets
import sys
import tracemalloc

import numpy as np
import pytest
from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.compiler import lower
from veil.compiler.digest import structure_digest
from veil.models.catalog import compile_model
from veil.service.cloud_service import CloudService
from veil.service.error_frames import RemoteError
from veil.service.manifest import seal_message, sign_manifest
from veil.service.messages import user_id
from veil.service.owner_client import prepare, publish, upload
from veil.service.client import connect

from .publish_testkit import BITS, cloud, owners, raw_publish, users  # noqa: F401 (fixtures)

TINY_HEAD = """model m {
    patch 5 -> 1 stride 1
    normalise p -> (p / 255 - 0.5) / 0.2
    input       fix<12, 9>
    activation  fix<10, 8>
    weight      fix<11, 9>
    bias        fix<24, 17>
    coefficient frac 9
"""


def key_bytes(pk) -> bytes:
    return P.dumps_public_key(pk)


def compiles(monkeypatch) -> list:
    calls = []
    original = CloudService._compile

    def spy(self, manifest):
        calls.append(manifest["name"])
        return original(self, manifest)
    monkeypatch.setattr(CloudService, "_compile", spy)
    return calls


def stored(tmp_path, name, uid):
    from veil.service.store import Store
    with Store.open(tmp_path / "store") as store:
        return store.get_model(name, uid)


def test_unsigned_publish_is_refused(tmp_path, owners, users, monkeypatch):
    pk = users["alice"][0]
    _, manifest = prepare("tiny", pk, "m", owners["carol"][1])
    unsigned = {k: manifest[k] for k in ("name", "spec", "modulus_bits", "digest")}
    calls = compiles(monkeypatch)
    with cloud(tmp_path, owners) as (address, _):
        reply = raw_publish(address, unsigned, key_bytes(pk))
    assert "unsigned publish refused" in reply, reply
    assert calls == [] and stored(tmp_path, "m", user_id(pk)) is None


def test_publish_signed_by_a_key_not_allowed_is_refused(tmp_path, owners, users, monkeypatch):
    pk = users["alice"][0]
    _, manifest = prepare("tiny", pk, "m", owners["mallory"][1])
    calls = compiles(monkeypatch)
    with cloud(tmp_path, owners) as (address, _):
        reply = raw_publish(address, manifest, key_bytes(pk))
    fp = owners["mallory"][1].public.fingerprint
    assert f"owner key {fp} is not allowed" in reply, reply
    assert calls == [] and stored(tmp_path, "m", user_id(pk)) is None


def test_a_second_owner_cannot_replace_a_name(tmp_path, owners, users):
    (carol, _), (dave, _) = owners["carol"], owners["dave"]
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", users["alice"][2], address, "m", carol, progress=False)
        for user in ("alice", "bob"):              # the name, for any user, is carol's
            with pytest.raises(RemoteError, match="model name 'm' belongs to another owner"):
                publish("tiny", users[user][2], address, "m", dave, progress=False)
    rec = stored(tmp_path, "m", user_id(users["alice"][0]))
    assert rec.version == 1 and rec.manifest["owner_key"] == owners["carol"][1].public.raw.hex()
    assert stored(tmp_path, "m", user_id(users["bob"][0])) is None


def _tamper(manifest: dict, what: str, pk, scratch) -> dict:
    """What an attacker between owner and cloud (or holding an old manifest) would change,
    keeping the fields consistent with each other so that only the signature can tell;
    `scratch` is any key, to compute the digests of the changed specs."""
    if what == "spec":                             # another architecture, its own digest
        other = prepare("compact", pk, "m", scratch)[1]
        return dict(manifest, spec=other["spec"], digest=other["digest"])
    if what == "kappa":
        return dict(manifest, kappa=41, digest=prepare("tiny", pk, "m", scratch, 41)[1]["digest"])
    if what == "name":
        return dict(manifest, name="someone-elses")
    return dict(manifest, counter=manifest["counter"] + 1)


@pytest.mark.parametrize("what", ["spec", "kappa", "name", "counter"])
def test_tampered_manifest_is_refused(tmp_path, owners, users, monkeypatch, what):
    pk = users["alice"][0]
    _, manifest = prepare("tiny", pk, "m", owners["carol"][1])
    forged = _tamper(manifest, what, pk, owners["mallory"][1])
    calls = compiles(monkeypatch)
    with cloud(tmp_path, owners) as (address, _):
        reply = raw_publish(address, forged, key_bytes(pk))
    assert "is not signed by owner key" in reply, reply
    assert calls == []


def test_replayed_manifest_cannot_roll_a_model_back(tmp_path, owners, users):
    carol = owners["carol"][1]
    pk = users["alice"][0]
    old_program, old = prepare("tiny", pk, "m", carol, counter=1000)
    with cloud(tmp_path, owners) as (address, _):
        for program, manifest in ((old_program, old), prepare("tiny", pk, "m", carol)):
            ch = connect(address)
            upload(ch, program, pk, manifest, carol, progress=False)
            ch.close()
        reply = raw_publish(address, old, key_bytes(pk))
    assert "is not newer than" in reply and "replayed" in reply, reply
    assert stored(tmp_path, "m", user_id(pk)).version == 2


def test_swapped_ciphertexts_are_refused(tmp_path, owners, users):
    """Carol's signed manifest with ciphertexts of other weights: the seal does not match."""
    carol = owners["carol"][1]
    pk = users["alice"][0]
    _, manifest = prepare("tiny", pk, "m", carol)
    fake = compile_model(TINY_HEAD + "    weights random seed 5\n    dense 25 -> 8 tanh_star\n"
                         "    dense 8 -> 8 tanh_star\n    dense 8 -> 1\n}\n", "packed", BITS)

    class Forger:                                  # signs with carol's seal of another upload
        public = carol.public

        def sign(self, message):
            return carol.sign(message[:-32] + hashlib.sha256(b"carol's real upload").digest())

    with cloud(tmp_path, owners) as (address, _):
        ch = connect(address)
        with pytest.raises(RemoteError, match="upload seal does not verify"):
            upload(ch, fake, pk, manifest, Forger(), progress=False)
        ch.close()
    assert stored(tmp_path, "m", user_id(pk)) is None


@pytest.fixture
def secret_npz(tmp_path):
    path = tmp_path / "cloud-secret.npz"
    np.savez(path, secret_array=np.array([0.123456789]))
    return path


def test_weights_clause_cannot_read_the_clouds_files(tmp_path, owners, users, secret_npz):
    pk = users["alice"][0]
    _, good = prepare("tiny", pk, "m", owners["carol"][1])
    opened = []

    def audit(event, args):
        if event == "open" and "cloud-secret" in str(args[0]):
            opened.append(args[0])
    sys.addaudithook(audit)                        # cannot be removed: it only records
    replies = []
    with cloud(tmp_path, owners) as (address, _):
        for target in (secret_npz, tmp_path / "cloud-secret-missing.npz"):
            spec = (TINY_HEAD + f'    weights "{target}"\n    dense 25 -> 8 tanh_star\n'
                    "    dense 8 -> 8 tanh_star\n    dense 8 -> 1\n}\n")
            manifest = sign_manifest(dict(good, spec=spec), owners["carol"][1])
            replies.append(raw_publish(address, manifest, key_bytes(pk)))
    for reply in replies:
        assert "may not name a weights file" in reply, reply
        for leak in ("cloud-secret", "secret_array", "0.1234", str(tmp_path)):
            assert leak not in reply, reply
    assert replies[0] == replies[1]               # existing or not: the same answer
    assert opened == []


def _bomb(hidden: list[int]) -> str:
    sizes = [1] + hidden + [1]
    lines = [f"    dense {a} -> {b}" + (" tanh_star" if k < len(hidden) else "")
             for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    return (TINY_HEAD.replace("5 -> 1", "1 -> 1").replace("fix<24, 17>", "fix<20, 17>")
            + "    weights random seed 1\n" + "\n".join(lines) + "\n}\n")


def test_compile_bomb_is_refused_before_allocating(tmp_path, owners, users):
    """41 million declared weights in a 400-byte spec: refused at the dense clause while the
    cloud has allocated next to nothing (the old code allocated gigabytes)."""
    pk = users["alice"][0]
    _, good = prepare("tiny", pk, "m", owners["carol"][1])
    manifest = sign_manifest(dict(good, spec=_bomb([6400, 6400])), owners["carol"][1])
    with cloud(tmp_path, owners) as (address, _):
        tracemalloc.start()
        try:
            reply = raw_publish(address, manifest, key_bytes(pk), timeout=120)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8 << 20, f"{peak / 1e6:.1f} MB allocated before refusing: {reply}"
    assert ":11:5: layer 2 has 40960000 weights, more than the" in reply, reply


def test_activation_bomb_is_refused_before_any_circuit_is_built(tmp_path, owners, users,
                                                                monkeypatch):
    """64 segments, each a different quadratic (a 3 KB spec): the old cloud synthesised and
    optimised their circuits for 12 s of CPU before it found that the digest did not match;
    now the circuit budget refuses the dense clause that uses the activation, in the usual
    one line, before a gate is built."""
    segments = "".join(f"    |x| <= {1.52 * (k + 1) / 64:.6f} : -0.{2716 + 37 * k} * x^2 + x\n"
                       for k in range(64))
    spec = (f"activation a odd saturate 1 {{\n{segments}}}\n"
            + TINY_HEAD.replace("fix<10, 8>", "fix<16, 12>") + "    weights random seed 1\n"
            "    dense 25 -> 8 a\n    dense 8 -> 8 a\n    dense 8 -> 1\n}\n")
    pk = users["alice"][0]
    _, good = prepare("tiny", pk, "m", owners["carol"][1])
    manifest = sign_manifest(dict(good, spec=spec), owners["carol"][1])
    built = []
    monkeypatch.setattr(lower, "activation_circuit", lambda *a: built.append(a))
    monkeypatch.setattr(lower, "masked_activation_circuit", lambda *a: built.append(a))
    with cloud(tmp_path, owners) as (address, _):
        reply = raw_publish(address, manifest, key_bytes(pk), timeout=60)
    assert reply.startswith("the published spec does not compile: <model m>:76:19: layer 1: "
                            "activation 'a' needs about "), reply
    assert reply.endswith(" ANDs, more than the 8192 an activation circuit may have"), reply
    assert "\n" not in reply and built == []
    assert stored(tmp_path, "m", user_id(pk)) is None


@pytest.mark.parametrize("allow_test_keys", [False, True])
def test_huge_key_is_refused_before_any_work(tmp_path, owners, users, monkeypatch,
                                             allow_test_keys):
    """A 16386-bit modulus that is not a product of two primes (the attack's key): refused
    at the manifest, before the key is parsed or anything compiled, test flag or not."""
    n = mpz(secrets.randbits(16386) | (1 << 16385) | 1)
    huge = P.PublicKey(n)
    _, good = prepare("tiny", users["alice"][0], "m", owners["carol"][1])
    digest = structure_digest(compile_model(good["spec"], "packed", huge.bits))
    manifest = sign_manifest(dict(good, modulus_bits=huge.bits, user_id=user_id(huge),
                                  digest=digest), owners["carol"][1])
    calls = compiles(monkeypatch)
    parsed = []
    real = P.loads_public_key
    monkeypatch.setattr(P, "loads_public_key", lambda data: (parsed.append(len(data)), real(data))[1])
    with cloud(tmp_path, owners, allow_test_keys=allow_test_keys) as (address, _):
        reply = raw_publish(address, manifest, key_bytes(huge), timeout=10)
    assert "a 16386-bit user key is not allowed on this cloud" in reply, reply
    assert calls == [] and parsed == []


def test_test_keys_need_the_flag(tmp_path, owners, users):
    with cloud(tmp_path, owners, allow_test_keys=False) as (address, _):
        with pytest.raises(RemoteError, match=f"a {BITS}-bit user key is not allowed .*"
                                              r"\(allowed: 2048, 3072, 4096\)"):
            publish("tiny", users["alice"][2], address, "m", owners["carol"][0],
                    progress=False)


def test_oversized_manifest_is_refused_unread(tmp_path, owners, users):
    pk = users["alice"][0]
    _, good = prepare("tiny", pk, "m", owners["carol"][1])
    padded = sign_manifest(dict(good, spec=good["spec"] + "#" * 70_000 + "\n"),
                           owners["carol"][1])
    with cloud(tmp_path, owners) as (address, _):
        reply = raw_publish(address, padded, key_bytes(pk))
    assert "MANIFEST message of" in reply and "exceeds the limit of 65536" in reply, reply


def test_seal_covers_the_manifest_and_the_frames():
    m = {"name": "m", "spec": "s", "modulus_bits": 2048, "kappa": 40, "digest": "0" * 64,
         "user_id": "1" * 64, "counter": 1}
    assert seal_message(m, b"a" * 32) != seal_message(dict(m, counter=2), b"a" * 32)
    assert seal_message(m, b"a" * 32) != seal_message(m, b"b" * 32)

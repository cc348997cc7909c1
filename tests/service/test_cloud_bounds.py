"""The cloud's own bounds around published models: it never generates a key pair of a size it
does not allow (a model published while test keys were allowed is refused after a restart
without the flag), its cache of compiled programs is bounded, and kappa stays in range."""
from __future__ import annotations

import pytest

from veil.backends.yao import paillier as P
from veil.service.limits import PROGRAM_CACHE_ENTRIES
from veil.service.manifest import sign_manifest
from veil.service.owner_client import prepare, publish
from veil.service.store import Store
from veil.service.user_client import RemoteSession
from veil.service.error_frames import RemoteError

from .publish_testkit import BITS, cloud, owners, raw_publish, users  # noqa: F401 (fixtures)


def test_no_key_pair_of_an_unallowed_size(tmp_path, owners, users, monkeypatch):
    pk, sk, alice_pub = users["alice"]
    with cloud(tmp_path, owners, allow_test_keys=True) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["carol"][0], progress=False)
    generated = []
    real = P.generate_keypair
    monkeypatch.setattr(P, "generate_keypair", lambda bits, *a, **k: (generated.append(bits),
                                                                      real(bits, *a, **k))[1])
    with cloud(tmp_path, owners, allow_test_keys=False) as (address, _):
        with pytest.raises(RemoteError, match=f"published for a {BITS}-bit key, which this "
                                               "cloud does not allow"):
            RemoteSession(address, sk, "m")
    assert generated == []


def test_program_cache_is_bounded(tmp_path, owners, users):
    pk = users["alice"][0]
    with cloud(tmp_path, owners) as (_, service):
        manifest = prepare("tiny", pk, "m", owners["carol"][1])[1]
        for k in range(PROGRAM_CACHE_ENTRIES + 3):        # distinct texts, one structure
            service._compile(dict(manifest, spec=manifest["spec"] + f"# variant {k}\n"))
            assert len(service._programs) <= PROGRAM_CACHE_ENTRIES


@pytest.mark.parametrize("kappa", [39, 129, 20])
def test_kappa_out_of_range_is_refused(tmp_path, owners, users, kappa):
    pk = users["alice"][0]
    _, good = prepare("tiny", pk, "m", owners["carol"][1])
    manifest = sign_manifest(dict(good, kappa=kappa), owners["carol"][1])
    with cloud(tmp_path, owners) as (address, _):
        reply = raw_publish(address, manifest, P.dumps_public_key(pk))
    assert f"kappa {kappa} is outside 40..128" in reply, reply


def test_allowed_owners_are_read_at_each_publish(tmp_path, owners, users):
    """An owner allowed while the cloud runs can publish at once (allow-owner does not need
    the store's exclusive lock)."""
    from veil.service.store_owners import allow_owner, list_owners
    with cloud(tmp_path, owners, allowed=()) as (address, _):
        with pytest.raises(Exception, match="is not allowed"):
            publish("tiny", users["alice"][2], address, "m", owners["carol"][0],
                    progress=False)
        allow_owner(tmp_path / "store", owners["carol"][1].public.raw, "carol")
        publish("tiny", users["alice"][2], address, "m", owners["carol"][0], progress=False)
        listed = list_owners(tmp_path / "store")
    assert [(o.label, o.models) for o in listed] == [("carol", 1)]
    with Store.open(tmp_path / "store") as store:
        assert store.owner(owners["carol"][1].public.fingerprint).label == "carol"

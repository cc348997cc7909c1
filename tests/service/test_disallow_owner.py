"""Revoking an owner (`veil cloud disallow-owner`): it can no longer publish, the cloud stops
serving what it signed (the login looks as for a pair it never served), its names stay
reserved to its key, and allowing the key again restores all of it. Done on a running cloud,
as an operator would."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from veil.cli import main
from veil.service.auth import AuthError
from veil.service.owner_client import publish
from veil.service.owner_keys import dumps_public
from veil.service.store_owners import allow_owner, disallow_owner, list_owners
from veil.service.user_client import RemoteSession

from .publish_testkit import cloud, owners, users  # noqa: F401 (fixtures)


def _session(address, sk, model):
    session = RemoteSession(address, sk, model)
    session.close()


def test_a_disallowed_owner_can_neither_publish_nor_be_served(tmp_path, owners, users):
    carol_key, carol = owners["carol"]
    sk, alice_pub = users["alice"][1], users["alice"][2]
    store = tmp_path / "store"
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", alice_pub, address, "m", carol_key, progress=False)
        _session(address, sk, "m")                           # served while carol is allowed
        assert disallow_owner(store, carol.public.fingerprint).label == "carol"
        with pytest.raises(Exception, match="is not allowed"):
            publish("tiny", alice_pub, address, "m", carol_key, progress=False)
        with pytest.raises(AuthError) as revoked:
            _session(address, sk, "m")
        with pytest.raises(AuthError) as never:              # a name nobody published
            _session(address, sk, "n")
        assert "has no model 'm' here" in str(revoked.value)
        assert str(revoked.value).replace("'m'", "'n'") == str(never.value)   # alike
        allow_owner(store, carol.public.raw, "carol")
        _session(address, sk, "m")                           # restored, same version
    assert [(o.label, o.models, o.revoked_at) for o in list_owners(store)] == [
        ("carol", 1, None), ("dave", 0, None)]


def test_a_revoked_owners_names_stay_reserved(tmp_path, owners, users):
    alice_pub = users["alice"][2]
    with cloud(tmp_path, owners, allowed=("carol", "dave")) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["carol"][0], progress=False)
        disallow_owner(tmp_path / "store", owners["carol"][1].public.fingerprint)
        with pytest.raises(Exception, match="belongs to another owner"):
            publish("tiny", alice_pub, address, "m", owners["dave"][0], progress=False)


def test_cli_disallows_by_file_or_fingerprint_and_says_so(tmp_path, owners):
    carol = owners["carol"][1]
    pub = tmp_path / "carol.pub"
    pub.write_bytes(dumps_public(carol.public))
    store = str(tmp_path / "store")
    runner = CliRunner()
    assert runner.invoke(main, ["cloud", "allow-owner", "--store", store, str(pub)]).exit_code == 0
    done = runner.invoke(main, ["cloud", "disallow-owner", "--store", store, str(pub)])
    assert done.exit_code == 0 and f"disallowed owner 'carol', key {carol.public.fingerprint}" \
        in done.output
    listed = runner.invoke(main, ["cloud", "owners", "--store", store]).output
    assert f"{carol.public.fingerprint}  carol  0 model name(s)  allowed " in listed
    assert "  revoked " in listed
    again = runner.invoke(main, ["cloud", "disallow-owner", "--store", store,
                                 carol.public.fingerprint.upper()])
    assert again.exit_code == 1
    assert again.output.strip().splitlines()[-1] == (
        f"error: owner key {carol.public.fingerprint} is not allowed on the store at {store}")
    bad = runner.invoke(main, ["cloud", "disallow-owner", "--store", store, "nonsense"])
    assert bad.exit_code != 0 and "neither an owner's public key file nor an owner " \
        "fingerprint" in bad.output

"""The user's side of signed publishing: the MANIFEST the cloud serves carries the owner's key
and signature; the user checks the signature itself, refuses a model not signed by the key
it was told to expect (`--owner-pub`), and otherwise says which key signed it. Kappa is the
owner's choice and reaches the user through the signed manifest."""
from __future__ import annotations

import re

import json
import sqlite3
import warnings

import numpy as np
import pytest
from PIL import Image

from veil.backends.plaintext import PlaintextBackend
from veil.backends.yao import paillier as P
from veil.models.catalog import compile_model
from veil.service.messages import user_id
from veil.service.owner_client import publish
from veil.service.owner_keys import load_public
from veil.service.user_client import RemoteSession, denoise_remote
from veil.util.errors import ServiceError

from .publish_testkit import BITS, cloud, owners, users  # noqa: F401 (fixtures)


def pub(owners, name):
    return load_public(owners[name][0].with_suffix(".pub"))


def test_user_refuses_a_model_signed_by_another_owner(tmp_path, owners, users):
    pk, sk, alice_pub = users["alice"]
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["dave"][0], progress=False)
        with pytest.raises(ServiceError) as e:
            RemoteSession(address, sk, "m", owner_pub=pub(owners, "carol"))
    dave, carol = (owners[n][1].public.fingerprint for n in ("dave", "carol"))
    assert str(e.value) == (f"model 'm' is signed by owner key {dave}, not by the expected "
                            f"{carol} (--owner-pub): refused")


def test_expected_owner_and_its_kappa_run_exactly(tmp_path, owners, users):
    pk, sk, alice_pub = users["alice"]
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["carol"][0], progress=False,
                kappa=64)
        session = RemoteSession(address, sk, "m", owner_pub=pub(owners, "carol"))
        try:
            assert session.program.security.kappa == 64
            x = np.random.default_rng(1).integers(-2048, 2048, (5, 25))
            out = session.run(x)
        finally:
            session.close()
    reference = PlaintextBackend().run_fixed(compile_model("tiny", "packed", BITS, 64), x)
    assert np.array_equal(out, reference)


def test_without_owner_pub_the_signer_is_named(tmp_path, owners, users):
    pk, sk, alice_pub = users["alice"]
    key = tmp_path / "alice.key"
    P.save_private_key(key, sk)
    Image.fromarray(np.full((4, 4), 90, np.uint8)).save(tmp_path / "in.png")
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["carol"][0], progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", P.InsecureKeyWarning)
            line = denoise_remote(tmp_path / "in.png", tmp_path / "out.png", key, address, "m",
                                  workers=1, progress=False)
    assert f"signed by owner key {owners['carol'][1].public.fingerprint}" in line, line
    assert "not checked: pass --owner-pub" in line
    # the summary splits the traffic by phase, and the phases add up to the totals
    sent, received = map(float, re.search(r"sent ([\d.]+) MB, received ([\d.]+) MB", line).groups())
    phases = re.findall(r"(set-up|offline|online) [\d.]+ s, up ([\d.]+) MB, down ([\d.]+) MB", line)
    assert [p[0] for p in phases] == ["set-up", "offline", "online"], line
    assert abs(sum(float(p[1]) for p in phases) - sent) <= 0.2
    assert abs(sum(float(p[2]) for p in phases) - received) <= 0.2
    assert float(phases[1][2]) > 0 and float(phases[2][2]) > 0      # tables, then labels


def test_user_checks_the_signature_itself(tmp_path, owners, users):
    """A cloud that serves a manifest changed after signing (here: its counter, edited in the
    store) is refused by the user, --owner-pub or not."""
    pk, sk, alice_pub = users["alice"]
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["carol"][0], progress=False)
        db = sqlite3.connect(tmp_path / "store" / "store.sqlite3")
        manifest = json.loads(db.execute("SELECT manifest FROM models").fetchone()[0])
        manifest["counter"] -= 1
        db.execute("UPDATE models SET manifest = ?", (json.dumps(manifest),))
        db.commit()
        db.close()
        with pytest.raises(ServiceError, match="is not signed by owner key"):
            RemoteSession(address, sk, "m")
    assert user_id(pk) == manifest["user_id"]

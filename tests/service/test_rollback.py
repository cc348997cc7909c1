"""A cloud that kept an older signed version of a model cannot serve it to a user who has
been served a newer one: the user remembers the newest publish counter per owner, user and
model (service/seen_models.py) and refuses a smaller one in one line."""
from __future__ import annotations

import shutil

import pytest

from veil.service.owner_client import publish
from veil.service.seen_models import check_and_record, default_path
from veil.service.user_client import RemoteSession
from veil.util.errors import KeyFileError, ServiceError

from .publish_testkit import cloud, owners, users  # noqa: F401 (fixtures)


def _served_counter(address, sk, model) -> int:
    session = RemoteSession(address, sk, model)
    session.close()
    return session.manifest["counter"]


def test_a_cloud_serving_an_older_version_is_refused(tmp_path, owners, users):
    sk, alice_pub = users["alice"][1], users["alice"][2]
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["carol"][0], progress=False)
    shutil.copytree(tmp_path / "store", tmp_path / "kept" / "store")    # the cloud keeps v1
    with cloud(tmp_path, owners) as (address, _):
        publish("tiny", alice_pub, address, "m", owners["carol"][0], progress=False)
        newest = _served_counter(address, sk, "m")                        # alice sees v2
    with cloud(tmp_path / "kept", owners) as (address, _):
        with pytest.raises(ServiceError, match=r"served an older version of model 'm' "
                                               r"\(publish counter \d+\) than this user was "
                                               rf"served before \({newest}, recorded in "):
            RemoteSession(address, sk, "m")
    with cloud(tmp_path, owners) as (address, _):
        assert _served_counter(address, sk, "m") == newest                # v2 still served


def test_counters_are_kept_per_owner_user_and_model(tmp_path):
    path = default_path()
    check_and_record(path, "a" * 64, "u" * 64, "m", 10)
    check_and_record(path, "a" * 64, "u" * 64, "m", 10)                 # the same again
    check_and_record(path, "b" * 64, "u" * 64, "m", 3)                  # another owner
    check_and_record(path, "a" * 64, "v" * 64, "m", 3)                  # another user
    check_and_record(path, "a" * 64, "u" * 64, "n", 3)                  # another model
    with pytest.raises(ServiceError, match="older version of model 'm'"):
        check_and_record(path, "a" * 64, "u" * 64, "m", 9)
    assert path.stat().st_mode & 0o777 == 0o600 and len(path.read_text().splitlines()) == 4


def test_a_damaged_file_is_refused_not_skipped(tmp_path):
    path = default_path()
    path.parent.mkdir(parents=True)
    path.write_text("not a line\n")
    with pytest.raises(KeyFileError, match=f"{path} line 1: expected KEY COUNTER"):
        check_and_record(path, "a" * 64, "u" * 64, "m", 1)

"""Shared by the store tests: keys, blob sets, the on-disk checks and the fixtures (imported
by name into each test module, the way pytest picks fixtures up)."""
from __future__ import annotations

import hashlib
import itertools
import os
import stat

import pytest

from veil.service.store import Store

KEY_A, KEY_B = b"alice public key", b"bob public key"
OWNER_KEY = bytes(range(32))                   # the store keeps owner keys as raw bytes
OWNER = hashlib.sha256(OWNER_KEY).hexdigest()
_COUNTER = itertools.count(1)


def by_owner() -> dict:
    """put_model's signer arguments: the allowed test owner and a fresh, larger counter."""
    return {"owner_id": OWNER, "counter": next(_COUNTER)}


def open_store(path) -> Store:
    """Store.open, with the test owner allowed."""
    store = Store.open(path)
    store.allow_owner(OWNER_KEY, "owner")
    return store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_files(directory) -> set[str]:
    return set(os.listdir(directory / "blobs"))


def expected_files(*blob_sets) -> set[str]:
    return {f"{sha(d)}.blob" for blobs in blob_sets for d in blobs.values()}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "cloud"


@pytest.fixture
def store(path):
    with open_store(path) as s:
        yield s


@pytest.fixture
def alice(store):
    return store.register_user("alice", KEY_A)


V1 = {"w1": b"ciphertexts of layer 1", "w2": b"ciphertexts of layer 2", "b": b"shared bias"}
V2 = {"w1": b"new layer 1", "w2": b"new layer 2", "b": b"shared bias"}

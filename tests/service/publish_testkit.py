"""Shared by the publishing tests: owner and user keys on disk, a cloud (store, service,
server thread on 127.0.0.1) and a raw publisher that sends whatever manifest a test builds."""
from __future__ import annotations

import contextlib
import json
import socket
import warnings

import pytest

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.service.cloud_service import CloudService
from veil.service.error_frames import RemoteError, ServiceChannel
from veil.service.frames import ServiceKind
from veil.service.messages import FORMAT
from veil.service.owner_keys import keygen
from veil.service.ratelimit import RateLimiter
from veil.service.store import Store

from .net_testkit import host_port, running

BITS = 768                                    # test keys: the cloud runs with allow_test_keys


@pytest.fixture(scope="module")
def users(tmp_path_factory):
    """{name: (pk, sk, path of NAME.pub)} for alice and bob."""
    folder = tmp_path_factory.mktemp("users")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        for name in ("alice", "bob"):
            pk, sk = P.generate_keypair(BITS)
            P.save_public_key(folder / f"{name}.pub", pk)
            out[name] = (pk, sk, folder / f"{name}.pub")
    return out


@pytest.fixture(scope="module")
def owners(tmp_path_factory):
    """{name: (path of NAME.key, OwnerKey)}: carol and dave are allowed, mallory is not."""
    folder = tmp_path_factory.mktemp("owners")
    return {name: (path, key) for name in ("carol", "dave", "mallory")
            for path, _, key in [keygen(folder / f"{name}.key")]}


def new_service(store: Store, allow_test_keys: bool) -> CloudService:
    return CloudService(store, RateLimiter(store, None), allow_test_keys=allow_test_keys)


def allow(store: Store, key, label: str) -> None:
    store.allow_owner(key.public.raw, label)


@contextlib.contextmanager
def cloud(folder, owners, allowed=("carol", "dave"), allow_test_keys=True):
    """(address, service) of a cloud on 127.0.0.1 that allows `allowed` owners."""
    with Store.open(folder / "store") as store:
        for name in allowed:
            allow(store, owners[name][1], name)
        service = new_service(store, allow_test_keys)
        with running(handler=service.handle) as server:
            yield host_port(server), service


def raw_publish(address: str, manifest: dict, key_bytes: bytes, timeout: float = 20.0) -> str:
    """REQUEST, MANIFEST (as given), PUBLIC_KEY; the cloud's answer as text: its ERROR
    reason, or 'waiting' when it says nothing within `timeout` (it wants the ciphertexts)."""
    host, port = address.rsplit(":", 1)
    ch = ServiceChannel(socket.create_connection((host, int(port)), timeout=timeout), timeout)
    try:
        ch.send(ServiceKind.REQUEST, json.dumps({"op": "publish", "format": FORMAT}).encode())
        ch.send(ServiceKind.MANIFEST, json.dumps(dict(manifest, format=FORMAT)).encode())
        ch.send(Kind.PUBLIC_KEY, key_bytes)
        try:
            ch.recv(ServiceKind.DONE)
        except RemoteError as e:
            return str(e)
        except ProtocolError as e:                 # a timeout or a closed connection
            return "waiting" if "timed out" in str(e) else f"closed: {e}"
        return "DONE"
    finally:
        ch.close()

"""A live cloud for frame fuzzing (tests/service/test_fuzz_frames.py): the pieces of
`veil cloud serve` (Store, CloudService, Server on 127.0.0.1, port 0) in this process, one
model published for one user, every log record kept, and the honest clients' flows, which can
be made to send one tampered frame.

Everything the set-up decides (key size, TLS or not, the server's options, how a model is
published) is in `LiveCloud.start`, so a change of defaults is one place to adapt.
"""
from __future__ import annotations

import hashlib
import logging
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from veil.backends.catalog import get_backend
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import HEADER
from veil.backends.yao.framing.kinds import FrameKind
from veil.backends.yao.lowerings.packed.user import PackedUser
from veil.compiler.digest import structure_digest
from veil.compiler.public import public_text
from veil.models.catalog import compile_model, resolve_spec
from veil.service.auth import prove_identity
from veil.service.cloud_service import CloudService
from veil.service.owner_client import prepare, upload
from veil.service.owner_keys import keygen as owner_keygen
from veil.service.error_frames import ServiceChannel
from veil.service.frames import ServiceKind
from veil.service.limits import FRAME_BYTES_BEFORE_LOGIN, USER_FRAME_BYTES
from veil.service.manifest import MANIFEST_FIELDS
from veil.service.limits import MANIFEST_BYTES
from veil.service.messages import recv_json, send_json, user_id
from veil.service.ratelimit import RateLimiter
from veil.service.server import Server
from veil.service.store import DATABASE, Store
from veil.service.store_blobs import SUFFIX, TEMP_PREFIX

from .store_testkit import blob_files

BITS = 768                     # a test key size: publishing and a session take about a second
MODEL, RECORDED = "tiny-a", "tiny-recorded"
SERVER_SILENCE = 120.0         # the server's wait for a byte: far above any example's duration
CLOSE_WITHIN = 30.0            # after the client's last byte, the server closes by then


class Stop(Exception):
    """The tampered frame is out: the client's flow ends there."""


class Recorder(ServiceChannel):
    """A client channel that keeps (kind, payload) of every frame it sends and can replace the
    frame number `at` by `tamper(kind, payload)` (raw bytes, header included), then stop."""

    def __init__(self, sock, at: int | None = None, tamper=None):
        super().__init__(sock, SERVER_SILENCE, FRAME_BYTES_BEFORE_LOGIN)
        self.sent: list[tuple[FrameKind, bytes]] = []
        self.at, self.tamper = at, tamper

    def send(self, kind, payload) -> None:
        if len(self.sent) == self.at:
            self._send_bytes(self.tamper(kind, bytes(payload)))
            raise Stop
        self.sent.append((kind, bytes(payload)))
        super().send(kind, payload)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@dataclass
class LiveCloud:
    root: Path
    program: object = None
    pk: P.PublicKey = None
    sk: P.PrivateKey = None
    manifest: dict = None
    recorded: dict[str, list[tuple[FrameKind, bytes]]] = field(default_factory=dict)
    thread_errors: list = field(default_factory=list)

    # -- set-up ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.logs = _Records()
        logging.getLogger("veil").addHandler(self.logs)
        logging.getLogger("veil").setLevel(logging.DEBUG)
        self._hook, threading.excepthook = threading.excepthook, self.thread_errors.append
        self.pk, self.sk = P.generate_keypair(BITS)
        self.program = compile_model("tiny", "packed", key_bits=BITS)
        self.manifest = {"name": MODEL, "spec": public_text(resolve_spec("tiny")),
                         "modulus_bits": BITS, "digest": structure_digest(self.program)}
        self.store = Store.open(self.root / "store")
        _, _, self.owner = owner_keygen(self.root / "owner.key")
        self.store.allow_owner(self.owner.public.raw, "fuzz")
        service = CloudService(self.store, RateLimiter(self.store, None), allow_test_keys=True)
        self.server = Server(service.handle, "127.0.0.1", 0, timeout=SERVER_SILENCE)
        self.server.serve_in_thread()
        self.run(self.publish)
        self.recorded["publish"] = self.run(self.publish, name=RECORDED)
        self.recorded["denoise"] = self.run(self.denoise)

    def stop(self) -> None:
        self.server.shutdown(grace=5.0)
        self.store.close()
        threading.excepthook = self._hook
        logging.getLogger("veil").removeHandler(self.logs)

    # -- connections -------------------------------------------------------------------------------
    def socket(self) -> socket.socket:
        return socket.create_connection(self.server.address, timeout=CLOSE_WITHIN)

    def run(self, flow, at: int | None = None, tamper=None, **options):
        """`flow(channel, **options)` on a fresh connection, honest up to frame `at`; returns
        what the client sent, after making sure the server closes the connection."""
        sock = self.socket()
        ch = Recorder(sock, at, tamper)
        try:
            flow(ch, **options)
        except Stop:
            pass
        finish(sock)
        return ch.sent

    def send_raw(self, data: bytes) -> bytes:
        """Raw bytes on a fresh connection; the server's whole answer."""
        sock = self.socket()
        try:
            sock.sendall(data)
        except OSError:                 # the server may refuse and close before reading it all
            pass
        return finish(sock)

    # -- the honest clients ----------------------------------------------------------------------
    def publish(self, ch: ServiceChannel, name: str = MODEL) -> None:
        program, manifest = prepare("tiny", self.pk, name, self.owner)
        upload(ch, program, self.pk, manifest, self.owner, progress=False)

    def login(self, ch: ServiceChannel) -> bytes:
        """Up to the manifest: the cheap part of a session (no provisioning, no OT)."""
        send_json(ch, ServiceKind.REQUEST, {"op": "denoise"})
        cid = prove_identity(ch, self.sk, user_id(self.pk), MODEL)
        ch.max_payload = USER_FRAME_BYTES
        manifest = recv_json(ch, ServiceKind.MANIFEST, dict(MANIFEST_FIELDS, version=int),
                             max_payload=MANIFEST_BYTES + 256)
        assert manifest["digest"] == self.manifest["digest"]
        return cid

    def denoise(self, ch: ServiceChannel, patches: int = 1) -> np.ndarray:
        cid = self.login(ch)
        user = PackedUser(self.program, self.pk, self.sk, cid)
        user.setup(ch)
        x = np.random.default_rng(patches).integers(-2000, 2000, size=(patches, 25))
        out = user.run_batch(ch, x)
        send_json(ch, ServiceKind.DONE, {})
        assert np.array_equal(out, get_backend("plaintext").run_fixed(self.program, x))
        return out

    # -- health --------------------------------------------------------------------------------
    def faults(self) -> list[str]:
        """Log lines of the server's faults (refusals of a peer are warnings, not faults)."""
        return [r.getMessage() for r in self.logs.records
                if r.levelno >= logging.ERROR or "Traceback" in r.getMessage()
                or r.exc_info] + [repr(e.exc_value) for e in self.thread_errors]

    def forget_faults(self) -> None:
        self.logs.records.clear()
        self.thread_errors.clear()

    def assert_healthy(self, denoise: bool = False) -> None:
        """No fault, no session left open, still serving (a login; with `denoise`, a whole
        session, bit-exact), the store's files as its database says."""
        assert not self.faults(), self.faults()
        deadline = time.monotonic() + CLOSE_WITHIN
        while self.server.active_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.active_connections == 0, "sessions still open after the fuzz"
        self.run(self.denoise if denoise else self.login)
        assert_store_consistent(self.root / "store")
        assert not self.faults(), self.faults()


def finish(sock: socket.socket) -> bytes:
    """Half-close, then read until the server closes; fails if it keeps the connection."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    got, deadline = bytearray(), time.monotonic() + CLOSE_WITHIN
    try:
        while True:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        raise AssertionError(f"the server kept the connection open {CLOSE_WITHIN} s after "
                             "the client's last byte") from None
    except OSError:                     # reset: closed with our bytes unread, also a close
        pass
    finally:
        sock.close()
    return bytes(got)


def error_reasons(reply: bytes) -> list[str]:
    """The reasons of the ERROR frames in a server's answer (complete frames only)."""
    out, at = [], 0
    while at + HEADER.size <= len(reply):
        _, _, kind, length = HEADER.unpack_from(reply, at)
        at += HEADER.size
        if kind == ServiceKind.ERROR.code:
            out.append(reply[at:at + length].decode("utf-8", "replace"))
        at += length
    return out


def assert_store_consistent(directory: Path) -> None:
    """The database is sound, every model version has all its blobs (and a provisioned one
    all its secrets), and the blob folder holds exactly the blobs named, each whole."""
    with sqlite3.connect(f"file:{directory / DATABASE}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT DISTINCT sha256, size FROM blobs").fetchall()
        orphans = db.execute("SELECT COUNT(*) FROM blobs WHERE model_id NOT IN "
                             "(SELECT id FROM models)").fetchone()[0]
        keys: dict[tuple, set] = {}
        for model, kind, key in db.execute("SELECT model_id, kind, key FROM blobs"):
            keys.setdefault((model, kind), set()).add(key)
        provisioned = {r[0] for r in db.execute("SELECT model_id FROM provisioned")}
        models = [r[0] for r in db.execute("SELECT id FROM models")]
    assert orphans == 0
    for model in models:
        layers = len([k for k in keys.get((model, "model"), ()) if k.startswith("columns")])
        assert layers and keys[model, "model"] == {f"{name}{k}" for k in range(layers)
                                                   for name in ("columns", "bias")}, keys
        if model in provisioned:
            assert keys[model, "secret"] == {"cloud_key"} | {
                f"{name}{k}" for k in range(layers) for name in ("masked", "neg_R")}, keys
    files = blob_files(directory)
    assert not [f for f in files if f.startswith(TEMP_PREFIX)], files
    assert files == {f"{sha}{SUFFIX}" for sha, _ in rows}
    for sha, size in rows:
        data = (directory / "blobs" / f"{sha}{SUFFIX}").read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha

"""The cloud's side of the service: what one connection may ask for.

  REQUEST {"op": "publish"}  owner: MANIFEST (public spec, key size, structure digest),
                             PUBLIC_KEY of the user, the packed model (packed_protocol's
                             frames); stored as a new version; DONE {"version", "user_id"}
  REQUEST {"op": "denoise"}  user: authentication (auth.py) for one model published for
                             them, MANIFEST, provisioning (drawn once per model version and
                             user, stored, resent identically), OT session, then batches
                             (INTEGERS: a batch request, each checked against the rate
                             limit) until DONE.
Refusals (unknown model, rate limit, a spec that does not compile) are ServiceErrors: the
server sends their one-line message to the peer and closes that connection only.
"""
from __future__ import annotations

import threading
from collections import defaultdict

from veil.backends.executor import Executor, InlineExecutor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.catalog import parties_for
from veil.backends.yao.lowerings.frames import read_batch_request
from veil.backends.yao.lowerings.parties import Cloud, EncryptedModel
from veil.compiler.digest import structure_digest
from veil.models.catalog import compile_model
from veil.util.errors import VeilError
from veil.service.auth import Identity, authenticate_user
from veil.service.decoys import DecoyKeys
from veil.service.error_frames import ServiceError
from veil.service.messages import (MANIFEST_FIELDS, SERVICE_LOWERING, check_name, recv_json,
                                   send_json, user_id as user_id_of)
from veil.service.ratelimit import RateLimited, RateLimiter
from veil.service.store import ModelRecord, Store
from veil.service.frames import ServiceKind
from veil.service.limits import MODEL_UPLOAD_FRAME_BYTES



class CloudService:
    def __init__(self, store: Store, limiter: RateLimiter, executor: Executor | None = None):
        self.store, self.limiter = store, limiter
        self.executor = executor or InlineExecutor()
        self._programs: dict[tuple, object] = {}
        self._provision_locks: dict[tuple, threading.Lock] = defaultdict(threading.Lock)
        self._lock = threading.Lock()
        self._decoys = DecoyKeys.in_folder(store.directory)       # auth.py: unknown users

    def handle(self, ch: Channel, peer) -> None:
        op = recv_json(ch, ServiceKind.REQUEST, {"op": str})["op"]
        if op == "publish":
            self._publish(ch)
        elif op == "denoise":
            self._denoise(ch)
        else:
            raise ServiceError(f"unknown request {op!r}")

    # -- owner --------------------------------------------------------------------------------
    def _compile(self, manifest: dict):
        key = (manifest["spec"], manifest["modulus_bits"])
        with self._lock:
            if key in self._programs:
                return self._programs[key]
        try:
            program = compile_model(manifest["spec"], SERVICE_LOWERING,
                                    key_bits=manifest["modulus_bits"],
                                    source=f"<model {manifest['name']}>")
        except VeilError as e:
            raise ServiceError(f"the published spec does not compile: {e}") from None
        if structure_digest(program) != manifest["digest"]:
            raise ServiceError("the published spec does not match its structure digest")
        with self._lock:
            self._programs[key] = program
        return program

    def _publish(self, ch: Channel) -> None:
        manifest = recv_json(ch, ServiceKind.MANIFEST, MANIFEST_FIELDS)
        check_name(manifest["name"], error=ServiceError)
        pk = P.loads_public_key(ch.recv(Kind.PUBLIC_KEY, max_payload=1 << 16))  # ProtocolError
        if pk.bits != manifest["modulus_bits"]:
            raise ServiceError(f"the user's key has {pk.bits} bits, the manifest says "
                               f"{manifest['modulus_bits']}")
        ch.mark_authenticated()     # the login ends (with signed publishing: once checked)
        program = self._compile(manifest)
        largest = max(st.packed.ciphertexts
                      for st in program.dense) * 2 * pk.byte_width + 1024
        ch.max_payload = min(max(ch.max_payload, largest), MODEL_UPLOAD_FRAME_BYTES)
        blobs = parties_for(program.lowering).model.receive(ch, program, pk).blobs(pk)
        uid = user_id_of(pk)
        if self.store.user(uid) is None:
            self.store.register_user(f"user-{uid[:16]}", P.dumps_public_key(pk))
        public = {k: manifest[k] for k in MANIFEST_FIELDS}
        version = self.store.put_model(manifest["name"], uid, public, blobs)
        send_json(ch, ServiceKind.DONE, {"version": version, "user_id": uid})

    # -- user ---------------------------------------------------------------------------------
    def _lookup(self, uid: str, model: str) -> P.PublicKey | None:
        user = self.store.user(uid)
        if user is None or self.store.get_model(model, uid) is None:
            return None
        return P.loads_public_key(user.public_key)

    def _user_key(self, uid: str) -> P.PublicKey | None:
        user = self.store.user(uid)
        return None if user is None else P.loads_public_key(user.public_key)

    def _model(self, rec: ModelRecord, program, pk: P.PublicKey) -> EncryptedModel:
        return parties_for(program.lowering).model.from_blobs(
            program, pk, lambda name: self.store.read_blob(rec, name))

    def _cloud(self, rec: ModelRecord, program, pk: P.PublicKey, sid: bytes) -> Cloud:
        """This user's cloud party, provisioned once per model version and user (under a
        lock: two first sessions must not draw two R); afterwards restored, identical, from
        the store."""
        model = self._model(rec, program, pk)
        cloud = parties_for(program.lowering).cloud(program, pk, model, sid,
                                                    executor=self.executor)
        key = (rec.name, rec.user_id, rec.version)
        with self._provision_locks[key]:
            if not self.store.is_provisioned(*key):
                self.store.put_secrets(*key, cloud.provision(), provisioned=True)
                return cloud
        cloud.restore(lambda name: self.store.get_secret(*key, name))
        return cloud

    def _denoise(self, ch: Channel) -> None:
        ident: Identity = authenticate_user(ch, self._lookup, user_key=self._user_key,
                                            decoys=self._decoys)
        ch.mark_authenticated()
        rec = self.store.get_model(ident.model, ident.user_id)
        if rec is None:
            raise ServiceError(f"no model {ident.model!r} for this user")
        program = self._compile(rec.manifest)
        send_json(ch, ServiceKind.MANIFEST, dict(rec.manifest, version=rec.version))
        cloud = self._cloud(rec, program, ident.public_key, ident.connection_id)
        cloud.send_provisioning(ch)
        cloud.open_session(ch)
        while True:
            kind, payload = ch.recv_any((Kind.INTEGERS, ServiceKind.DONE), max_payload=1024)
            if kind is ServiceKind.DONE:
                return
            patches = read_batch_request(payload, cloud.max_batch_patches)
            try:
                self.limiter.reserve(ident.user_id, ident.model, patches)
            except RateLimited as e:
                raise ServiceError(str(e)) from None
            cloud.serve_online(ch, cloud.prepare(ch, patches))


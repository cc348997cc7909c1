"""The cloud's side of the service: what one connection may ask for.

  REQUEST {"op": "publish"}  owner: MANIFEST (signed: manifest.py), PUBLIC_KEY of the user,
                             the packed model (packed_protocol's frames), DONE {seal}; stored
                             as a new version; DONE {"version", "user_id"}
  REQUEST {"op": "denoise"}  user: authentication (auth.py) for one model published for
                             them, MANIFEST (as signed, + version), provisioning (drawn once
                             per model version and user, stored, resent identically), OT
                             session, then batches (INTEGERS: a batch request, each checked
                             against the rate limit) until DONE.

A publish is checked in order of cost, and nothing it says is used for a size, a path or a
count before the check it depends on: the manifest's size (a frame limit), an allowed signer
and its signature, then the signed limits (key size, kappa), the name's owner and the
counter, then the user's key (read under a limit that follows from the signed key size and
hashed against the signed user id), and only then the spec is compiled, without opening any
file, within the compiler's weight budgets, and the ciphertexts read; the upload's seal is
checked before the store commits anything.
Refusals are ServiceErrors: the server sends their one-line message to the peer and closes
that connection only.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, defaultdict

from veil.backends.executor import Executor, InlineExecutor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.catalog import parties_for
from veil.backends.yao.lowerings.frames import read_batch_request
from veil.backends.yao.lowerings.parties import Cloud, EncryptedModel
from veil.compiler.digest import structure_digest
from veil.models.catalog import compile_published
from veil.util.errors import VeilError
from veil.service.auth import Identity, authenticate_user
from veil.service.decoys import DecoyKeys
from veil.service.error_frames import ServiceError
from veil.service.frames import ServiceKind
from veil.service.limits import (MANIFEST_BYTES, MODEL_UPLOAD_FRAME_BYTES,
                                 PROGRAM_CACHE_ENTRIES, PUBLIC_KEY_FRAME_BYTES,
                                 USER_FRAME_BYTES)
from veil.service.manifest import (MANIFEST_FIELDS, Transcript, check_fields, check_kappa,
                                   check_key_bits, key_bits_allowed, signer, verify_manifest,
                                   verify_seal)
from veil.service.owner_keys import OwnerPublicKey
from veil.service.messages import check_json_fields, recv_json, send_json, user_id as user_id_of
from veil.service.ratelimit import RateLimited, RateLimiter
from veil.service.store import ModelRecord, Store


class CloudService:
    def __init__(self, store: Store, limiter: RateLimiter, executor: Executor | None = None,
                 allow_test_keys: bool = False):
        self.store, self.limiter = store, limiter
        self.executor = executor or InlineExecutor()
        self.allow_test_keys = allow_test_keys
        self._programs: OrderedDict[tuple, tuple[object, str]] = OrderedDict()   # LRU
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
        """The manifest's program, compiled once per (spec, key size, kappa) while it stays
        among the PROGRAM_CACHE_ENTRIES most recently used; its digest checked every time."""
        key = (manifest["spec"], manifest["modulus_bits"], manifest["kappa"])
        with self._lock:
            cached = self._programs.get(key)
            if cached is not None:
                self._programs.move_to_end(key)
        if cached is None:
            try:
                program = compile_published(manifest["spec"], manifest["modulus_bits"],
                                            manifest["kappa"], f"<model {manifest['name']}>")
            except VeilError as e:
                raise ServiceError(f"the published spec does not compile: {e}") from None
            cached = (program, structure_digest(program))
            with self._lock:
                self._programs[key] = cached
                while len(self._programs) > PROGRAM_CACHE_ENTRIES:
                    self._programs.popitem(last=False)
        if cached[1] != manifest["digest"]:
            raise ServiceError("the published spec does not match its structure digest")
        return cached[0]

    def _signed_manifest(self, ch: Channel) -> tuple[dict, OwnerPublicKey]:
        """The manifest and its signer, once the signer is allowed and the signature, the
        limits, the name's owner and the counter pass."""
        obj = recv_json(ch, ServiceKind.MANIFEST, {}, max_payload=MANIFEST_BYTES)
        if "signature" not in obj or "owner_key" not in obj:
            raise ServiceError("unsigned publish refused: this cloud accepts only manifests "
                               "signed by an allowed owner key (veil owner publish --owner-key)")
        manifest = check_json_fields(obj, ServiceKind.MANIFEST, MANIFEST_FIELDS)
        owner = signer(manifest)
        if self.store.owner(owner.fingerprint) is None:
            raise ServiceError(f"owner key {owner.fingerprint} is not allowed on this cloud "
                               "(its operator allows owners with veil cloud allow-owner)")
        verify_manifest(manifest, owner)
        check_fields(manifest)
        check_key_bits(manifest["modulus_bits"], self.allow_test_keys)
        check_kappa(manifest["kappa"])
        self.store.check_publish(manifest["name"], manifest["user_id"], owner.fingerprint,
                                 manifest["counter"])
        return manifest, owner

    def _publish(self, ch: Channel) -> None:
        manifest, owner = self._signed_manifest(ch)
        bits = manifest["modulus_bits"]
        key_bytes = ch.recv(Kind.PUBLIC_KEY, max_payload=min(PUBLIC_KEY_FRAME_BYTES,
                                                             bits // 8 + 64))
        if hashlib.sha256(key_bytes).hexdigest() != manifest["user_id"]:
            raise ServiceError("the user's public key is not the one the manifest names")
        pk = P.loads_public_key(key_bytes)                    # ProtocolError
        if pk.bits != bits:
            raise ServiceError(f"the user's key has {pk.bits} bits, the manifest says {bits}")
        if user_id_of(pk) != manifest["user_id"]:
            raise ServiceError("the user's public key file is not in its canonical form")
        ch.mark_authenticated()     # the login ends once the signature and the key are checked
        program = self._compile(manifest)
        largest = max(st.packed.ciphertexts
                      for st in program.dense) * 2 * pk.byte_width + 1024
        ch.max_payload = min(max(ch.max_payload, largest), MODEL_UPLOAD_FRAME_BYTES)
        transcript = Transcript(ch)
        blobs = parties_for(program.lowering).model.receive(transcript, program, pk).blobs(pk)
        verify_seal(manifest, owner, recv_json(ch, ServiceKind.DONE, {"seal": str}),
                    transcript.digest())
        uid = manifest["user_id"]
        if self.store.user(uid) is None:
            self.store.register_user(f"user-{uid[:16]}", key_bytes)
        public = {k: manifest[k] for k in MANIFEST_FIELDS}
        version = self.store.put_model(manifest["name"], uid, public, blobs,
                                       owner_id=owner.fingerprint, counter=manifest["counter"])
        send_json(ch, ServiceKind.DONE, {"version": version, "user_id": uid})

    # -- user ---------------------------------------------------------------------------------
    def _lookup(self, uid: str, model: str) -> P.PublicKey | None:
        user = self.store.user(uid)
        if user is None or self.store.served_model(model, uid) is None:
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
                                                    executor=self.executor.for_job())
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
        rec = self.store.served_model(ident.model, ident.user_id)
        if rec is None:
            raise ServiceError(f"no model {ident.model!r} for this user")
        bits = rec.manifest["modulus_bits"]
        if not key_bits_allowed(bits, self.allow_test_keys):
            raise ServiceError(f"model {rec.name!r} was published for a {bits}-bit key, which "
                               "this cloud does not allow")
        program = self._compile(rec.manifest)
        # An authenticated user's batches need more than a stranger's 2 MiB (compact's OT
        # request for 16 patches is 2.3 MB); every receive below bounds its own frame by what
        # the program implies, so the channel's cap only has to let those through.
        ch.max_payload = USER_FRAME_BYTES
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

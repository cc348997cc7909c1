"""`veil owner publish`: encrypt a model for one user and upload it to the cloud, signed.

The owner compiles the spec with its real weights and signs a manifest (manifest.py): the
public description (the spec with its weights clause replaced, compiler/public.py), the
user's key size and id, kappa, the structure digest (compiler/digest.py) and a publish
counter. It sends the manifest, the user's public key and the model encrypted under that key
(the lowering's Owner.publish), with progress, then seals the upload with a second signature
over the manifest and every ciphertext frame. Re-publishing under the same name for the same
user makes a new version atomically (the store's job); only the owner that first published
a name may.
"""
from __future__ import annotations

import time

from tqdm import tqdm

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.catalog import parties_for
from veil.compiler.digest import structure_digest
from veil.compiler.program import Program
from veil.compiler.public import public_text
from veil.models.catalog import compile_model, resolve_spec
from veil.service.client import connect
from veil.service.frames import ServiceKind
from veil.service.limits import KAPPA_RANGE
from veil.service.manifest import Transcript, seal_message, sign_manifest
from veil.service.messages import SERVICE_LOWERING, check_name, recv_json, send_json, user_id
from veil.service.owner_keys import OwnerKey, load_private
from veil.util.errors import UsageError


def check_kappa_option(kappa: int) -> int:
    if kappa not in KAPPA_RANGE:
        raise UsageError(f"--kappa must be in {KAPPA_RANGE.start}..{KAPPA_RANGE.stop - 1} "
                         f"(40 by default, 64 for long-lived services), got {kappa}")
    return kappa


def prepare(spec: str, pk: P.PublicKey, name: str, owner: OwnerKey, kappa: int = 40,
            counter: int | None = None) -> tuple[Program, dict]:
    """The compiled model (real weights) and its signed manifest."""
    path = resolve_spec(spec)
    program = compile_model(path, SERVICE_LOWERING, key_bits=pk.bits, kappa=kappa)
    fields = {"name": check_name(name), "spec": public_text(path), "modulus_bits": pk.bits,
              "kappa": kappa, "digest": structure_digest(program), "user_id": user_id(pk),
              "counter": time.time_ns() if counter is None else counter}
    return program, sign_manifest(fields, owner)


def upload(ch, program: Program, pk: P.PublicKey, manifest: dict, owner: OwnerKey,
           progress: bool = True) -> dict:
    """The publish request on an open channel; the cloud's DONE {version, user_id}."""
    send_json(ch, ServiceKind.REQUEST, {"op": "publish"})
    send_json(ch, ServiceKind.MANIFEST, manifest)
    ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(pk))
    party = parties_for(program.lowering).owner(program)
    transcript = Transcript(ch)
    with tqdm(total=party.ciphertexts(), unit="ct", desc="encrypting",
              disable=not progress) as bar:
        party.publish(transcript, pk, P.ShortExpNoise(pk), bar.update)
    seal = owner.sign(seal_message(manifest, transcript.digest()))
    send_json(ch, ServiceKind.DONE, {"seal": seal.hex()})
    return recv_json(ch, ServiceKind.DONE, {"version": int, "user_id": str})


def publish(spec: str, user_pub: str, address: str, name: str, owner_key: str, tls=None,
            progress: bool = True, kappa: int = 40) -> str:
    check_name(name)
    check_kappa_option(kappa)
    owner = load_private(owner_key)
    pk = P.load_public_key(user_pub)
    program, manifest = prepare(spec, pk, name, owner, kappa)
    ch = connect(address, tls)
    try:
        done = upload(ch, program, pk, manifest, owner, progress)
    finally:
        ch.close()
    return (f"published {program.model.name} as {name!r} version {done['version']} for user "
            f"{done['user_id'][:16]}... on {address} (kappa {kappa}, signed by owner key "
            f"{owner.public.fingerprint})")

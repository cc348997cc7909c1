"""`veil owner publish`: encrypt a model for one user and upload it to the cloud.

The owner compiles the spec with its real weights, sends the public description (the spec
with its weights clause replaced, compiler/public.py, and the structure digest,
compiler/digest.py), the user's public key, and the model encrypted under that key (the
lowering's Owner.publish), with progress. Re-publishing under the same name for the same user
makes a new version atomically (the store's job).
"""
from __future__ import annotations

from tqdm import tqdm

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.catalog import parties_for
from veil.compiler.digest import structure_digest
from veil.compiler.public import public_text
from veil.models.catalog import compile_model, resolve_spec
from veil.service.client import connect
from veil.service.messages import SERVICE_LOWERING, check_name, recv_json, send_json
from veil.service.frames import ServiceKind


def publish(spec: str, user_pub: str, address: str, name: str, tls=None,
            progress: bool = True) -> str:
    check_name(name)
    pk = P.load_public_key(user_pub)
    path = resolve_spec(spec)
    program = compile_model(path, SERVICE_LOWERING, key_bits=pk.bits)
    manifest = {"name": name, "spec": public_text(path), "modulus_bits": pk.bits,
                "digest": structure_digest(program)}
    owner = parties_for(program.lowering).owner(program)
    noise = P.ShortExpNoise(pk)
    ch = connect(address, tls)
    try:
        send_json(ch, ServiceKind.REQUEST, {"op": "publish"})
        send_json(ch, ServiceKind.MANIFEST, manifest)
        ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(pk))
        with tqdm(total=owner.ciphertexts(), unit="ct", desc="encrypting",
                  disable=not progress) as bar:
            owner.publish(ch, pk, noise, bar.update)
        done = recv_json(ch, ServiceKind.DONE, {"version": int, "user_id": str})
    finally:
        ch.close()
    return (f"published {program.model.name} as {name!r} version {done['version']} for user "
            f"{done['user_id'][:16]}... on {address}")

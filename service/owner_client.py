"""`veil owner publish`: encrypt a model for one user and upload it to the cloud.

The owner compiles the spec with its real weights, sends the public description (the spec
with its weights clause replaced, compiler/public.py, and the structure digest), the user's
public key, and the packed model encrypted under that key (PackedOwner.publish), with
progress. Re-publishing under the same
name for the same user makes a new version atomically (the store's job).
"""
from __future__ import annotations

from tqdm import tqdm

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Kind
from veil.backends.yao.lowerings.packed.protocol import PackedOwner
from veil.compiler.driver import compile_spec, security_for
from veil.compiler.public import public_text, structure_digest
from veil.service.client import connect
from veil.service.messages import check_name, recv_json, send_json


def publish(spec: str, user_pub: str, address: str, name: str, tls=None,
            progress: bool = True) -> str:
    check_name(name)
    pk = P.load_public_key(user_pub)
    program = compile_spec(spec, "packed", security_for(pk.bits))
    manifest = {"name": name, "spec": public_text(spec), "modulus_bits": pk.bits,
                "digest": structure_digest(program)}
    owner = PackedOwner(program)
    noise = P.ShortExpNoise(pk)
    ch = connect(address, tls)
    try:
        send_json(ch, Kind.REQUEST, {"op": "publish"})
        send_json(ch, Kind.MANIFEST, manifest)
        ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(pk))
        with tqdm(total=owner.ciphertexts(), unit="ct", desc="encrypting",
                  disable=not progress) as bar:
            owner.publish(ch, pk, noise, bar.update)
        done = recv_json(ch, Kind.DONE, {"version": int, "user_id": str})
    finally:
        ch.close()
    return (f"published {program.model.name} as {name!r} version {done['version']} for user "
            f"{done['user_id'][:16]}... on {address}")

"""`veil user denoise`: denoise an image on a remote cloud, resumably.

The user connects, authenticates with their private key for one model, receives the model's
public description (compiled here, checked against its structure digest), the provisioning
and the OT session, then runs the packed protocol batch by batch. Every finished batch goes to
the journal (journal.py) first, so rerunning the same command after any interruption skips the
batches already done. The output is written atomically at the end; the journal is removed.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from veil.backends.base import Backend
from veil.backends.dask_executor import make_executor
from veil.backends.executor import Executor, InlineExecutor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.lowerings.catalog import parties_for
from veil.compiler.digest import structure_digest
from veil.models.catalog import compile_published
from veil.models.denoise import count_patches, denoise_channels
from veil.models.images import check_output, read_image, write_image
from veil.models.progress import patch_progress
from veil.service.auth import prove_identity
from veil.service.client import connect
from veil.service.journal import Journal
from veil.service.manifest import MANIFEST_FIELDS, check_served
from veil.service.session_phases import SessionPhases
from veil.service.seen_models import check_and_record, default_path as seen_default
from veil.service.messages import SERVICE_LOWERING, check_name, recv_json, send_json, user_id
from veil.service.owner_keys import OwnerPublicKey, load_public
from veil.service.error_frames import ServiceError
from veil.service.frames import ServiceKind
from veil.service.limits import MANIFEST_BYTES, USER_FRAME_BYTES
from veil.util.errors import UsageError, VeilError

BATCH = 16                        # patches per batch: progress and journal granularity


class RemoteSession:
    """One authenticated connection running the protocol for one model."""

    def __init__(self, address: str, sk: P.PrivateKey, model: str, tls=None,
                 executor: Executor | None = None, owner_pub: OwnerPublicKey | None = None,
                 seen_models: Path | None = None):
        """`seen_models`: the file of the newest versions served (seen_models.py; default
        under the user's config folder), against a cloud serving an older signed one."""
        self.sk, self.model = sk, check_name(model)
        self.phases = SessionPhases()
        t0 = time.perf_counter()
        self.ch: Channel = connect(address, tls)
        send_json(self.ch, ServiceKind.REQUEST, {"op": "denoise"})
        cid = prove_identity(self.ch, sk, user_id(sk.public), model)
        self.manifest = recv_json(self.ch, ServiceKind.MANIFEST, dict(MANIFEST_FIELDS, version=int),
                                  max_payload=MANIFEST_BYTES + 256)  # + its version
        self.owner = check_served(self.manifest, user_id(sk.public), model, sk.public.bits,
                                  owner_pub)
        check_and_record(seen_models or seen_default(), self.owner.fingerprint,
                         user_id(sk.public), model, self.manifest["counter"])
        self.ch.max_payload = USER_FRAME_BYTES
        self.program = compile_published(self.manifest["spec"], self.manifest["modulus_bits"],
                                         self.manifest["kappa"], f"<model {model}>",
                                         SERVICE_LOWERING)
        if structure_digest(self.program) != self.manifest["digest"]:
            raise ServiceError("the cloud's copy of the model does not match its digest")
        self.user = parties_for(self.program.lowering).user(self.program, sk.public, sk, cid,
                                                            executor or InlineExecutor())
        self.user.setup(self.ch)
        self.phases.add("set-up", time.perf_counter() - t0, self.ch.bytes_sent,
                        self.ch.bytes_received)

    def run(self, x: np.ndarray) -> np.ndarray:
        with self.phases.measure("offline", self.ch):
            prepared = self.user.prepare(self.ch, len(x))
        with self.phases.measure("online", self.ch):
            return self.user.run_online(self.ch, prepared, x)

    def close(self) -> None:
        try:
            send_json(self.ch, ServiceKind.DONE, {})
        finally:
            self.ch.close()


class JournaledRemote(Backend):
    """A backend over a RemoteSession: batch k comes from the journal when it is there."""
    name = "remote"
    max_batch = BATCH

    def __init__(self, session: RemoteSession, journal: Journal):
        self.session, self.journal, self.calls, self.fresh = session, journal, 0, 0

    def run_fixed(self, program, x: np.ndarray) -> np.ndarray:
        idx, self.calls = self.calls, self.calls + 1
        out = self.journal.get(idx, x)
        if out is None:
            out = self.session.run(x)
            self.journal.put(idx, x, out)
            self.fresh += len(x)
        return out


def denoise_remote(noisy: str, output: str, key: str, address: str, model: str, tls=None,
                   workers: int | None = None, progress: bool = True,
                   owner_pub: str | None = None, dask: str | None = None) -> str:
    img = read_image(noisy)                      # fail on bad input before any work
    check_output(output, img.bit_depth, img.channels.shape[0])
    sk = P.load_private_key(key)
    owner = load_public(owner_pub) if owner_pub is not None else None
    with make_executor(workers, dask) as executor:
        return _denoise(img, output, sk, address, model, tls, executor, progress, owner)


def _denoise(img, output: str, sk: P.PrivateKey, address: str, model: str, tls,
             executor: Executor, progress: bool, owner: OwnerPublicKey | None) -> str:
    t0 = time.perf_counter()
    session = RemoteSession(address, sk, model, tls, executor, owner)
    program, manifest = session.program, session.manifest
    job = {"image": hashlib.sha256(img.channels.tobytes()).hexdigest(), "model": model,
           "version": manifest["version"], "digest": manifest["digest"],
           "shape": list(img.channels.shape)}
    journal = Journal(str(output) + ".veil-journal", job)
    backend = JournaledRemote(session, journal)
    total = count_patches(program, img.shape, img.channels.shape[0])
    try:
        with patch_progress(total, enabled=progress) as advance:
            out = denoise_channels(program, backend, img.channels, None, BATCH, advance)
        session.close()
    except Exception as e:
        saved = journal.count()
        journal.close()
        session.ch.close()
        if saved and isinstance(e, (VeilError, OSError)):     # a bug stays an internal error
            raise ServiceError(f"{e} ({saved} batches are saved in {journal.path.name}: "
                               "rerun the same command to resume)") from e
        raise
    except BaseException:
        journal.close()
        session.ch.close()
        raise
    write_image(output, out, img.bit_depth)
    journal.remove()
    elapsed = time.perf_counter() - t0
    resumed = total - backend.fresh
    h, w = img.shape
    return (f"denoised {w}x{h} with model {model} (version {manifest['version']}) on "
            f"{address}: {total} patches in {elapsed:.1f} s"
            + (f" ({resumed} from an earlier interrupted run)" if resumed else "")
            + f"; sent {session.ch.bytes_sent / 1e6:.1f} MB, received "
              f"{session.ch.bytes_received / 1e6:.1f} MB ({session.phases.text()}) -> {output}; "
              "signed by owner key "
              f"{session.owner.fingerprint}"
            + ("" if owner else " (not checked: pass --owner-pub to require it)"))


def keygen(path: str, bits: int = 2048) -> tuple[Path, Path]:
    """USER.key (0600) and USER.pub next to it."""
    key = Path(path)
    pub = key.with_suffix(".pub")
    if key.resolve() == pub.resolve():
        raise UsageError(f"{path}: the private key needs a name other than *.pub")
    pk, sk = P.generate_keypair(bits)
    P.save_private_key(key, sk)
    P.save_public_key(pub, pk)
    return key, pub

"""The one interface both lowerings' parties keep, so that whoever drives them (the in-process
yao backend, the networked service) never asks which lowering it runs.

Lifecycle, per model, user and session:
  owner   Owner(program).publish(ch, pk_u)             -> the cloud: EncryptedModel.receive
  cloud   Cloud(program, pk_u, model, session_id, executor)
            provision() once per model version and user -> named blobs to keep (secrets)
            or restore(read) from those blobs in a later session
            send_provisioning(ch); open_session(ch)
  user    User(program, pk, sk, session_id, executor); provision(ch); open_session(ch)
  per batch of patches (at most `max_batch_patches`):
    offline  user.prepare(ch, patches) <-> cloud.prepare(ch[, patches])   (needs no image)
    online   user.run_online(ch, batch, x) <-> cloud.serve_online(ch, batch)
A lowering with nothing to do in a step sends nothing there (`paper` has no provisioning and
no offline work beyond the batch request).

`for_session(session_id)` makes a twin of a provisioned party for another session that runs
at the same time (the yao backend's lanes): it shares the provisioning, the fixed-base
tables, the noise sources (thread-safe) and the executor, and has its own OT state, so each
session is exactly what it would be on its own connection.
"""
from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from veil.backends.executor import Executor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.lowerings.frames import check_batch, recv_batch_request
from veil.compiler.program import Lowering, Program
from veil.util.errors import UsageError

BlobReader = Callable[[str], bytes]
Progress = Callable[[int], None]


class EncryptedModel(ABC):
    """What the owner uploads, as the cloud holds it (all under the user's key)."""

    @classmethod
    @abstractmethod
    def receive(cls, ch: Channel, program: Program, pk_u: P.PublicKey) -> "EncryptedModel":
        """The cloud's side of the upload: exactly the counts the public shapes imply."""

    @abstractmethod
    def blobs(self, pk_u: P.PublicKey) -> dict[str, bytes]:
        """Named byte strings to store."""

    @classmethod
    @abstractmethod
    def from_blobs(cls, program: Program, pk_u: P.PublicKey, read: BlobReader) -> "EncryptedModel":
        """Back from what `blobs` stored (read(name) -> bytes)."""


class Owner(ABC):
    def __init__(self, program: Program):
        self.program = program

    @abstractmethod
    def publish(self, ch: Channel, pk_u: P.PublicKey, noise: P.NoiseSource | None = None,
                progress: Progress = lambda n: None) -> None:
        """Encrypt the model under pk_u and send it; progress(count) as ciphertexts are made."""

    @abstractmethod
    def ciphertexts(self) -> int:
        """How many ciphertexts publish() makes (for progress bars)."""


class SessionParty(ABC):
    """What both protocol parties share: per-session state, and twins for concurrent
    sessions on one provisioning."""
    session_id: bytes

    @abstractmethod
    def start_session(self) -> None:
        """This session's own state (its OT), made from self.session_id."""

    def for_session(self, session_id: bytes) -> Self:
        """A twin on the same provisioning for a concurrent session (see the module doc)."""
        twin = copy.copy(self)
        twin.session_id = session_id
        twin.start_session()
        return twin


class User(SessionParty):
    max_batch_patches: ClassVar[int]

    def __init__(self, program: Program, pk: P.PublicKey, sk: P.PrivateKey, session_id: bytes,
                 executor: Executor | None = None):
        self.program, self.pk, self.sk, self.session_id = program, pk, sk, session_id
        self.executor = executor
        self.start_session()

    def provision(self, ch: Channel) -> None:
        """Once per model and user: receive and check what the cloud provisions."""

    @abstractmethod
    def open_session(self, ch: Channel) -> None:
        """Per connection: the OT base set-up."""

    def setup(self, ch: Channel) -> None:
        self.provision(ch)
        self.open_session(ch)

    def check_batch(self, patches: int) -> None:
        check_batch(patches, self.max_batch_patches, UsageError)

    @abstractmethod
    def prepare(self, ch: Channel, patches: int) -> Any:
        """The offline phase of the next batch (sends the batch request first)."""

    @abstractmethod
    def run_online(self, ch: Channel, batch: Any, x: np.ndarray) -> np.ndarray:
        """The online phase: quantised patches in, output accumulators out."""

    def run_batch(self, ch: Channel, x: np.ndarray) -> np.ndarray:
        return self.run_online(ch, self.prepare(ch, len(x)), x)


class Cloud(SessionParty):
    max_batch_patches: ClassVar[int]

    def __init__(self, program: Program, pk_u: P.PublicKey, model: EncryptedModel,
                 session_id: bytes, executor: Executor | None = None):
        self.program, self.pk, self.model, self.session_id = program, pk_u, model, session_id
        self.executor = executor
        self.start_session()

    def provision(self) -> dict[str, bytes]:
        """Draw this user's provisioning (once per model version and user); return it as
        named blobs to keep, so later sessions `restore` and resend exactly the same."""
        return {}

    def restore(self, read: BlobReader) -> None:
        """Take back a provisioning that `provision` returned in an earlier session."""

    def send_provisioning(self, ch: Channel) -> None:
        """What the user receives in `User.provision` (nothing, for a lowering without)."""

    @abstractmethod
    def open_session(self, ch: Channel) -> None:
        """Per connection: the OT base set-up."""

    def setup(self, ch: Channel) -> None:
        """In-process use: provision afresh, send it, open the session."""
        self.provision()
        self.send_provisioning(ch)
        self.open_session(ch)

    def read_batch_request(self, ch: Channel) -> int:
        return recv_batch_request(ch, self.max_batch_patches)

    @abstractmethod
    def prepare(self, ch: Channel, patches: int | None = None) -> Any:
        """The offline phase of the user's next batch; `patches` when the caller has already
        read the batch request (read_batch_request), as the service does to rate-limit."""

    @abstractmethod
    def serve_online(self, ch: Channel, batch: Any) -> int:
        """The online phase; returns the batch's patch count."""

    def serve_batch(self, ch: Channel) -> int:
        return self.serve_online(ch, self.prepare(ch))


@dataclass(frozen=True)
class LoweringParties:
    """The classes of one lowering's parties."""
    lowering: Lowering
    model: type[EncryptedModel]
    owner: type[Owner]
    user: type[User]
    cloud: type[Cloud]

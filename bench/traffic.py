"""Bytes on the wire for `veil bench`: one run of the real `packed` parties (owner, cloud,
user of backends/yao/lowerings/packed/) over a real channel, every frame counted by phase,
sender and kind (bench/wire.py), nothing estimated.

Phases, as the parties run them (lowerings/parties.py):
  publishing    owner -> cloud, once per model (the encrypted columns and biases)
  provisioning  once per model and user (the cloud's key, Enc_u(W + R), Enc_c(-R))
  session       once per connection (the OT extension's base OTs)
  offline       per batch (batch request, corrections E, the garbled activations' OT,
                tables and the labels of the cloud's masks)
  online        per batch (D, the labels of x + r_c, the last layer's outputs)
The batch's output is checked against the plaintext reference. Each party runs in a thread
of its own: its CPU seconds per phase are that thread's time (no executor: all inline); each
party's fixed-base tables, which it would build on its first batch, count as provisioning.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from veil.backends.plaintext import dense_exact
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, InProcessChannel
from veil.backends.yao.lowerings.packed.cloud import PackedCloud
from veil.backends.yao.lowerings.packed.model import PackedModel, PackedOwner
from veil.backends.yao.lowerings.packed.user import PackedUser
from veil.backends.yao.paillier.pooled import PooledFreshNoise
from veil.bench.costs import Frames, Traffic
from veil.bench.timing import timed_pair
from veil.bench.wire import CountingChannel
from veil.compiler.program import Program

PHASES = ("publishing", "provisioning", "session", "offline", "online")
ChannelPair = Callable[[], tuple[Channel, Channel]]


def reference(program: Program, x: np.ndarray) -> np.ndarray:
    """The plaintext reference's output accumulators for patches x."""
    y = x
    for st in program.dense:
        acc = dense_exact(st.layer, y)
        act = program.activation(st.layer.index)
        y = acc if act is None else act.table.reference(acc)
    return y


def _build_tables(tables) -> None:
    """Each party's fixed-base tables, which it builds on first use (the first batch): built
    here, so provisioning's CPU holds them, as in the step table, and a batch's does not.
    The cloud's layer-1 columns are never raised to a power (no input mask s there)."""
    for t in tables:
        t.products([])


def _frames(ends: dict[str, CountingChannel]) -> tuple[Frames, ...]:
    return tuple(Frames(phase, sender, kind, ch.sent_frames[(phase, kind)], n)
                 for phase in PHASES for sender, ch in ends.items()
                 for (p, kind), n in sorted(ch.sent.items()) if p == phase)


def measure_traffic(program: Program, pk_u: P.PublicKey, sk_u: P.PrivateKey,
                    cloud_keys: tuple[P.PublicKey, P.PrivateKey], x: np.ndarray,
                    pair: ChannelPair = InProcessChannel.pair,
                    pools: tuple[PooledFreshNoise, PooledFreshNoise] | None = None
                    ) -> tuple[Traffic, dict[str, CountingChannel]]:
    """Run every phase of the packed protocol on the batch of patches x (at most the parties'
    batch limit); the counts, and the counting ends (owner, cloud's upload end, user,
    cloud) for whoever wants to compare them with the wrapped channels. `pools`: the
    sources of uniform factors under the user's and the cloud's keys that the cloud and the
    user then use, as a long job has them (bench/measure.py's, pools made), so that the
    run's CPU compares with the step table's; without, the parties' own, whose first
    factors are full exponentiations. The bytes are the same either way."""
    x = np.asarray(x, dtype=np.int64)
    owner_end, upload_end = pair()
    user_end, cloud_end = pair()
    ends = {"owner": CountingChannel(owner_end), "upload": CountingChannel(upload_end),
            "user": CountingChannel(user_end), "cloud": CountingChannel(cloud_end)}
    o, up, u, c = ends.values()
    cpu: dict[str, dict[str, float]] = {}
    wall: dict[str, float] = {}
    box: dict = {}

    def run(phase: str, a: str, fa: Callable, b: str, fb: Callable, chs: tuple) -> None:
        for ch in ends.values():
            ch.phase = phase
        start = time.perf_counter()
        ta, tb = timed_pair(fa, fb, chs)
        wall[phase], cpu[phase] = time.perf_counter() - start, {a: ta, b: tb}

    def cloud_party():
        box["model"] = PackedModel.receive(up, program, pk_u)
        box["cloud"] = PackedCloud(program, pk_u, box["model"], sid, cloud_keys)
    sid = os.urandom(16)
    # the owner's encryptions in the fast fixed-base mode, as the owner runs them
    run("publishing", "owner", lambda: PackedOwner(program).publish(o, pk_u, P.ShortExpNoise(pk_u)),
        "cloud", cloud_party, (o, up))
    user = PackedUser(program, pk_u, sk_u, sid)
    cloud: PackedCloud = box["cloud"]

    def user_provision():
        user.provision(u)
        _build_tables(user.Q)
        if pools:
            user.noise_c = pools[1]
    if pools:
        cloud.noise_u = pools[0]
    run("provisioning", "user", user_provision,
        "cloud", lambda: (cloud.provision(), cloud.send_provisioning(c),
                          _build_tables(cloud.columns[1:])), (u, c))
    run("session", "user", lambda: user.open_session(u),
        "cloud", lambda: cloud.open_session(c), (u, c))
    run("offline", "user", lambda: box.update(ub=user.prepare(u, len(x))),
        "cloud", lambda: box.update(cb=cloud.prepare(c)), (u, c))
    run("online", "user", lambda: box.update(out=user.run_online(u, box["ub"], x)),
        "cloud", lambda: cloud.serve_online(c, box["cb"]), (u, c))
    if not np.array_equal(box["out"], reference(program, x)):
        raise AssertionError("the packed parties' output differs from the plaintext reference")
    senders = {"owner": o, "cloud": c, "user": u}
    return Traffic(len(x), _frames(senders), cpu, wall), ends

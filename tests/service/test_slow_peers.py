"""Slow peers attack a real server on 127.0.0.1 (issue 11, finding 4): forty of them trickling
bytes must not keep an honest user from the same address out, and a frame that announces
64 MiB must cost the server what was sent, not what was announced (measured by tracemalloc
on the server running in this process)."""
import time
import tracemalloc
import warnings

import pytest
from .net_testkit import echo, finish, host_port, raw, running
from .slow_peers_kit import SlowPeers, header, served_within

from veil.backends.yao import paillier as P
from veil.service.auth import prove_identity
from veil.service.client import connect
from veil.service.cloud_service import CloudService
from veil.service.frames import ServiceKind
from veil.service.messages import send_json, user_id
from veil.service.ratelimit import RateLimiter
from .store_testkit import by_owner, open_store

PEERS = 40
SERVED_WITHIN = 10.0        # seconds; an honest client is served in well under one


def honest_echo(server):
    ch = connect(host_port(server), timeout=3)
    assert echo(ch, b"honest") == b"honest"
    finish(ch)


def test_forty_slow_peers_do_not_lock_out_an_honest_client():
    """Default settings. The peers reconnect whenever they are dropped; the honest client is
    served three times while they do. Before the fix sixteen trickling peers held every slot
    for as long as they trickled, and the honest client waited in the backlog until its time
    was up."""
    with running() as server:
        with SlowPeers(server.address, PEERS) as peers:
            took = []
            for _ in range(3):
                time.sleep(1.5)                      # every slot they can get is theirs
                took.append(served_within(SERVED_WITHIN, lambda: honest_echo(server))[2])
            assert peers.connects > PEERS            # dropped, they came back
    assert max(took) < SERVED_WITHIN


@pytest.fixture
def cloud(tmp_path):
    """A real CloudService with one user and a model record for them: enough to log in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(512)
    with open_store(tmp_path / "store") as store:
        uid = store.register_user("alice", P.dumps_public_key(pk))
        assert uid == user_id(pk)
        store.put_model("tiny-a", uid, {"name": "tiny-a", "spec": "", "modulus_bits": 512,
                                        "digest": "0" * 64}, {"w": b"not a real model"},
                        **by_owner())
        yield CloudService(store, RateLimiter(store, None)), sk, uid


@pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")
def test_honest_user_logs_in_to_a_real_cloud_while_forty_peers_trickle(cloud):
    service, sk, uid = cloud

    def login(server):
        ch = connect(host_port(server), timeout=3)
        try:
            send_json(ch, ServiceKind.REQUEST, {"op": "denoise"})
            return prove_identity(ch, sk, uid, "tiny-a")
        finally:
            ch.close()

    request = header(ServiceKind.REQUEST, 1000) + b" " * 1000    # what the cloud expects first
    with running(service.handle) as server:
        with SlowPeers(server.address, PEERS, data=request):
            time.sleep(1.5)
            cid, _, took = served_within(SERVED_WITHIN, lambda: login(server))
    assert len(cid) == 16 and took < SERVED_WITHIN


BIG = 1 << 26               # 64 MiB: what a stranger could announce before the fix


def test_an_announced_frame_costs_only_what_arrived():
    """Four peers announce 64 MiB each and send ten bytes. Before the fix the server allocated
    the announced length at once (tracemalloc: 256 MiB); now it holds what arrived."""
    def handler(channel, peer):
        channel.recv(ServiceKind.HELLO, max_payload=16)
        channel.send(ServiceKind.HELLO, b"ready")
        got = channel.recv(ServiceKind.HELLO, max_payload=BIG)
        channel.send(ServiceKind.DONE, str(len(got)).encode())

    with running(handler, max_payload=BIG, timeout=10) as server:
        peers = [raw(server, timeout=10) for _ in range(4)]
        for p in peers:
            p.sendall(header(ServiceKind.HELLO, 2) + b"go")
            assert p.recv(64).endswith(b"ready")     # the handler is about to read the frame
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            for p in peers:
                p.sendall(header(ServiceKind.HELLO, BIG) + b"0123456789")
            time.sleep(0.5)
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20, f"the server allocated {peak} bytes for 40 received"
        peers[0].sendall(bytes(BIG - 10))            # and the frame is still read whole
        peers[0].settimeout(10)
        assert peers[0].recv(64).endswith(str(BIG).encode())
        for p in peers:
            p.close()

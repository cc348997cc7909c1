"""The bench's byte counts are the bytes on the wire: run the real packed parties on tiny over
socket pairs whose sockets count every byte they carry, and compare the counting channels'
figures (bench/wire.py, by phase and kind) with the wrapped channels' totals, the peers'
received counts and the sockets' own counts."""
import socket

import numpy as np
import pytest

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import SocketChannel
from veil.bench.traffic import PHASES, measure_traffic
from veil.models.catalog import compile_model

pytestmark = pytest.mark.filterwarnings(
    "ignore::veil.backends.yao.paillier.keys.InsecureKeyWarning")
BITS = 512
PEER = {"owner": "upload", "upload": "owner", "user": "cloud", "cloud": "user"}


class CountingSocket:
    """A socket that counts the bytes it sends and receives (SocketChannel's calls only)."""

    def __init__(self, sock: socket.socket):
        self.sock, self.sent, self.received = sock, 0, 0

    def sendall(self, data) -> None:
        self.sock.sendall(data)
        self.sent += len(data)

    def recv_into(self, buf, n: int) -> int:
        k = self.sock.recv_into(buf, n)
        self.received += k
        return k

    def __getattr__(self, name):
        return getattr(self.sock, name)


@pytest.fixture(scope="module")
def run():
    program = compile_model("tiny", "packed", key_bits=BITS)
    pk, sk = P.generate_keypair(BITS)
    cloud_keys = P.generate_keypair(BITS)
    fmt = program.dense[0].layer.in_format
    x = np.random.default_rng(3).integers(fmt.min_int, fmt.max_int + 1,
                                          size=(3, program.dense[0].packed.n_in))
    sockets = []

    def pair():
        a, b = (CountingSocket(s) for s in socket.socketpair())
        sockets.append((a, b))
        return SocketChannel(a, timeout=60), SocketChannel(b, timeout=60)
    traffic, ends = measure_traffic(program, pk, sk, cloud_keys, x, pair)
    yield traffic, ends, sockets
    for a, b in sockets:
        a.close()
        b.close()


def test_counts_are_the_sockets_bytes(run):
    traffic, ends, sockets = run
    (owner_sock, upload_sock), (user_sock, cloud_sock) = sockets
    by_end = {"owner": owner_sock, "upload": upload_sock, "user": user_sock, "cloud": cloud_sock}
    for name, ch in ends.items():
        sock, peer = by_end[name], ends[PEER[name]]
        assert sum(ch.sent.values()) == ch.bytes_sent == ch.inner.bytes_sent == sock.sent
        assert sum(ch.received.values()) == ch.inner.bytes_received == sock.received
        assert ch.sent == peer.received and ch.sent_frames == peer.received_frames
    assert traffic.bytes() == sum(s.sent for pair in sockets for s in pair) > 0
    assert traffic.bytes(sender="user") == user_sock.sent
    assert traffic.bytes(sender="cloud") == cloud_sock.sent
    assert traffic.bytes("publishing") == traffic.bytes(sender="owner") == owner_sock.sent


def test_each_phase_has_its_frames(run):
    traffic, _, _ = run
    kinds = {ph: {(f.sender, f.kind) for f in traffic.frames if f.phase == ph} for ph in PHASES}
    assert kinds["publishing"] == {("owner", "CIPHERTEXTS")}
    assert kinds["provisioning"] == {("cloud", "PUBLIC_KEY"), ("cloud", "CIPHERTEXTS")}
    assert kinds["session"] == {("user", "OT"), ("cloud", "OT")}
    assert kinds["offline"] == {("user", "INTEGERS"), ("user", "OT"), ("cloud", "CIPHERTEXTS"),
                                ("cloud", "OT"), ("cloud", "GARBLED_TABLES"), ("cloud", "LABELS")}
    assert kinds["online"] == {("user", "CIPHERTEXTS"), ("cloud", "LABELS"),
                               ("cloud", "INTEGERS")}
    assert traffic.patches == 3 and all(f.frames > 0 and f.bytes > 12 for f in traffic.frames)
    assert set(traffic.cpu) == set(traffic.wall) == set(PHASES)

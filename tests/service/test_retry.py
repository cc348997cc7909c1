"""A client retries a refused or dropped connection with bounded, jittered exponential
backoff (client.connect), and nothing else: not a certificate it does not trust, not a refusal
once connected. Real sockets on 127.0.0.1; the waits are recorded (and skipped) where a test
only counts them."""
from __future__ import annotations

import socket
import threading
import time
from random import Random

import pytest

from veil.service import client as client_module
from veil.service.client import (CONNECT_ATTEMPTS, MAX_RETRY_SECONDS, connect, retry_delays)
from veil.service.error_frames import RemoteError, send_error
from veil.service.frames import ServiceKind
from veil.service.server import Server
from veil.service.tls import make_self_signed, server_context
from veil.service.trust import PinnedTrust

from .impostor_testkit import Impostor, der_fingerprint, free_port
from .net_testkit import echo, echo_handler, finish, host_port, running


@pytest.fixture
def pair(tmp_path):
    make_self_signed(tmp_path / "c.pem", tmp_path / "k.pem")
    return tmp_path / "c.pem", tmp_path / "k.pem", der_fingerprint(tmp_path / "c.pem")


@pytest.fixture
def waits(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", slept.append)
    return slept


def test_delays_double_from_half_a_second_jittered_and_capped():
    for seed in range(200):
        delays = retry_delays(CONNECT_ATTEMPTS, Random(seed))
        assert len(delays) == CONNECT_ATTEMPTS - 1
        for k, d in enumerate(delays):
            assert 0.5 * 2 ** k * 0.5 <= d < 0.5 * 2 ** k * 1.5
    assert len({tuple(retry_delays(5, Random(s))) for s in range(20)}) == 20    # jittered
    assert max(retry_delays(12, Random(1))) <= MAX_RETRY_SECONDS


def test_a_server_that_starts_late_is_reached(pair):
    cert, key, fp = pair
    port = free_port()
    started: list[Server] = []

    def start_late():
        time.sleep(1.5)
        server = Server(echo_handler, "127.0.0.1", port, tls_context=server_context(cert, key),
                        timeout=10)
        server.serve_in_thread()
        started.append(server)
    threading.Thread(target=start_late, daemon=True).start()
    said: list[str] = []
    t0 = time.monotonic()
    try:
        ch = connect(f"127.0.0.1:{port}", PinnedTrust(fp, said.append), timeout=10)
        elapsed = time.monotonic() - t0
        assert echo(ch, b"late") == b"late"
        finish(ch)
    finally:
        for server in started:
            server.shutdown(grace=1)
    assert 1.4 < elapsed < 12
    assert said and all(line.startswith("warning: cannot connect") for line in said)


def test_attempts_are_bounded(waits):
    port = free_port()
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match=f"cannot connect to 127.0.0.1:{port}: .*tried "
                                              f"{CONNECT_ATTEMPTS} times"):
        connect(f"127.0.0.1:{port}", timeout=5)
    assert len(waits) == CONNECT_ATTEMPTS - 1 and time.monotonic() - t0 < 5


def test_a_connection_dropped_in_the_handshake_is_retried(pair, waits):
    cert, key, fp = pair
    ctx = server_context(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        for i in range(3):
            sock, _ = listener.accept()
            accepted.append(i)
            if i < 2:
                sock.close()                      # a cloud restarting, a full queue
                continue
            with ctx.wrap_socket(sock, server_side=True) as tls:
                tls.settimeout(5)
                tls.recv(1)
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        ch = connect("127.0.0.1:%d" % listener.getsockname()[1], PinnedTrust(fp), timeout=5)
        ch.close()
    finally:
        thread.join(5)
        listener.close()
    assert accepted == [0, 1, 2] and len(waits) == 2


def test_no_retry_after_a_fingerprint_mismatch(tmp_path, pair, waits):
    impostor = Impostor(tmp_path)
    try:
        with pytest.raises(Exception, match="--cloud-fingerprint"):
            connect(impostor.address, PinnedTrust(pair[2]), timeout=5)
        time.sleep(0.3)
        assert impostor.handshakes == 1 and waits == []
    finally:
        impostor.close()


def test_no_retry_after_a_refusal(pair, waits):
    cert, key, fp = pair
    sessions = []

    def refuse(channel, peer):
        sessions.append(peer)
        send_error(channel, "unknown user or model")
    with running(refuse, tls_context=server_context(cert, key), timeout=5) as server:
        ch = connect(host_port(server), PinnedTrust(fp), timeout=5)
        with pytest.raises(RemoteError, match="unknown user or model"):
            ch.recv(ServiceKind.AUTH_CHALLENGE)
        ch.close()
    assert len(sessions) == 1 and waits == []

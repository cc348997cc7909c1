"""The threaded server: hostile or broken connections are closed alone, with a one-line log and
an ERROR frame, while well-behaved clients are served at the same time; clean stop on SIGTERM."""
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from .net_testkit import echo, finish, host_port, raw, running

from veil.backends.yao.framing.channel import HEADER, PeerClosed, ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.service.client import RemoteError, ServiceChannel, connect, parse_address
from veil.service.error_frames import ServiceError
from veil.service.frames import ServiceKind
from veil.service.server import Server
from veil.util.errors import UsageError

LOGGER = "veil.service.server"


def frame(kind: int, length: int, magic: bytes = b"VL", version: int = 1) -> bytes:
    return HEADER.pack(magic, version, kind, length)


def warnings_for(caplog, needle: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == LOGGER and r.levelno >= logging.WARNING and needle in r.getMessage()]


def test_binds_loopback_by_default_and_echoes():
    with running() as server:
        assert server.address[0] == "127.0.0.1" and server.address[1] > 0
        ch = connect(host_port(server), timeout=5)
        assert echo(ch, b"hello") == b"hello"
        finish(ch)


def test_several_clients_at_once():
    # Every handler waits until all clients are connected: a serial server would time out.
    n = 6
    barrier = threading.Barrier(n, timeout=5)

    def handler(channel, peer):
        barrier.wait()
        echo_all(channel)

    def echo_all(channel):
        while payload := channel.recv(ServiceKind.HELLO, max_payload=1024):
            channel.send(ServiceKind.HELLO, payload)
        channel.send(ServiceKind.DONE, b"")

    results, errors = {}, []

    def client(i):
        try:
            ch = connect(host_port(server), timeout=5)
            results[i] = [echo(ch, f"{i}-{k}".encode()) for k in range(5)]
            finish(ch)
        except Exception as e:       # reported below
            errors.append(e)

    with running(handler, max_connections=n) as server:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert not errors
    assert results == {i: [f"{i}-{k}".encode() for k in range(5)] for i in range(n)}


HOSTILE = {
    "garbage": (os.urandom(64).replace(b"V", b"x"), "bad magic"),
    "wrong magic": (frame(ServiceKind.HELLO, 3, magic=b"XX") + b"abc", "bad magic"),
    "wrong version": (frame(ServiceKind.HELLO, 0, version=9), "protocol version 9"),
    "unexpected kind": (frame(Kind.LABELS, 0), "unexpected message: LABELS, expected HELLO"),
    "unknown kind": (frame(200, 0), "unknown kind 200"),
    "oversized frame": (frame(ServiceKind.HELLO, 10 ** 12), "exceeds the limit"),
    "slow client": (b"VL\x01", "timed out"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_connection_is_closed_alone(name, caplog):
    data, reason = HOSTILE[name]
    caplog.set_level(logging.INFO, LOGGER)
    with running(timeout=0.5) as server:
        good = connect(host_port(server), timeout=5)
        assert echo(good, b"before") == b"before"
        bad = raw(server)
        bad.sendall(data)
        assert echo(good, b"after") == b"after"        # the good client never notices
        finish(good)
        bad_ch = ServiceChannel(bad, timeout=5)
        with pytest.raises(RemoteError, match=reason):
            bad_ch.recv(ServiceKind.HELLO)
        with pytest.raises(PeerClosed):
            bad_ch.recv(ServiceKind.HELLO)
        bad.close()
        good = connect(host_port(server), timeout=5)    # and the server still accepts
        assert echo(good, b"new") == b"new"
        finish(good)
    lines = warnings_for(caplog, "closed:")
    assert len(lines) == 1 and reason in lines[0] and "\n" not in lines[0]


def test_slow_client_does_not_block_a_concurrent_one():
    with running(timeout=1.0) as server:
        slow = raw(server)
        slow.sendall(b"VL")                 # and then nothing
        t0 = time.monotonic()
        ch = connect(host_port(server), timeout=5)
        for _ in range(5):
            assert echo(ch, b"x" * 1000) == b"x" * 1000
        finish(ch)
        assert time.monotonic() - t0 < 0.9  # served while the slow one still waits
        with pytest.raises(RemoteError, match="timed out"):
            ServiceChannel(slow, timeout=5).recv(ServiceKind.HELLO)
        slow.close()


def test_handler_bug_is_logged_on_one_line_and_hidden_from_the_peer(caplog):
    def handler(channel, peer):
        channel.recv(ServiceKind.HELLO, max_payload=16)
        {}["secret detail"]

    caplog.set_level(logging.INFO, LOGGER)
    with running(handler) as server:
        for _ in range(2):                  # the server keeps serving after a bug
            ch = connect(host_port(server), timeout=5)
            ch.send(ServiceKind.HELLO, b"hi")
            with pytest.raises(RemoteError, match="^internal server error$"):
                ch.recv(ServiceKind.DONE)
            ch.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "KeyError" in errors[0] and "test_server.py:" in errors[0] and "\n" not in errors[0]


def test_service_error_reason_reaches_the_peer_on_one_line():
    def handler(channel, peer):
        raise ServiceError("no model named\n'x'")

    with running(handler) as server:
        ch = connect(host_port(server), timeout=5)
        with pytest.raises(RemoteError, match="^no model named 'x'$"):
            ch.recv(ServiceKind.HELLO)
        ch.close()


def test_store_error_is_a_service_error_but_stays_on_the_server(caplog):
    """A StoreError is a ServiceError (one line at the command line) whose message may name
    the server's files: the peer gets no detail, the log an error with its place."""
    from veil.service.store import StoreCorrupt

    def handler(channel, peer):
        raise StoreCorrupt("store corrupt: /srv/veil/blobs/ab12.blob has 3 bytes")

    caplog.set_level(logging.INFO, LOGGER)
    with running(handler) as server:
        ch = connect(host_port(server), timeout=5)
        with pytest.raises(RemoteError, match="^internal server error$"):
            ch.recv(ServiceKind.HELLO)
        ch.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "StoreCorrupt" in errors[0] and "/srv/veil" in errors[0]


def test_client_error_frame_reaches_the_server_log(caplog):
    caplog.set_level(logging.INFO, LOGGER)
    with running() as server:
        ch = connect(host_port(server), timeout=5)
        ch.send(ServiceKind.ERROR, "cannot read my key file".encode())
        with pytest.raises(PeerClosed):
            ch.recv(ServiceKind.HELLO)
    lines = warnings_for(caplog, "RemoteError")
    assert len(lines) == 1 and "cannot read my key file" in lines[0]


def test_max_connections_queues_newcomers():
    release = threading.Event()
    order = []

    def handler(channel, peer):
        tag = channel.recv(ServiceKind.HELLO, max_payload=16)
        order.append(tag)
        if tag == b"first":
            release.wait(5)
        channel.send(ServiceKind.DONE, b"")

    with running(handler, max_connections=1) as server:
        first = connect(host_port(server), timeout=5)
        first.send(ServiceKind.HELLO, b"first")
        second = connect(host_port(server), timeout=5)   # sits in the accept backlog
        second.send(ServiceKind.HELLO, b"second")
        time.sleep(0.3)
        assert order == [b"first"] and server.active_connections == 1
        release.set()
        first.recv(ServiceKind.DONE), second.recv(ServiceKind.DONE)
        assert order == [b"first", b"second"]


def test_shutdown_cuts_off_sessions_after_the_grace_period():
    server = Server(lambda ch, peer: ch.recv(ServiceKind.HELLO), timeout=30)
    server.serve_in_thread()
    ch = connect(host_port(server), timeout=5)
    time.sleep(0.1)
    t0 = time.monotonic()
    server.shutdown(grace=0.3)
    assert 0.25 < time.monotonic() - t0 < 3 and server.active_connections == 0
    with pytest.raises(ProtocolError):
        ch.recv(ServiceKind.DONE)
    with pytest.raises(ConnectionError, match="cannot connect"):
        connect(host_port(server), timeout=2)


@pytest.mark.parametrize("text", ["localhost", "host:", ":80", "host:0", "host:65536",
                                  "host:http", "::1:80", "[::1]80", "host:８０"])
def test_malformed_addresses_are_refused(text):
    with pytest.raises(UsageError, match="malformed address"):
        parse_address(text)


def test_addresses():
    assert parse_address("example.org:443") == ("example.org", 443)
    assert parse_address("[::1]:8443") == ("::1", 8443)


# -- a real server process, stopped and restarted -------------------------------------------
SCRIPT = """
import logging, sys
from tests.service.net_testkit import echo_handler   # python -c runs from the repository root
from veil.service.server import Server, run_until_signal
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
server = Server(echo_handler, port=int(sys.argv[2]), timeout=10)
print(server.address[1], flush=True)
stopped_by = run_until_signal(server, grace=0.5)
sys.exit(0 if stopped_by == int(sys.argv[3]) else 3)
"""


def start(port: int, sig: int = signal.SIGTERM) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, "-", str(port), str(int(sig))],
                            cwd=Path(__file__).parents[2], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.strip().isdigit(), proc.communicate(timeout=5)
    return proc, int(line)


def test_subprocess_server_stops_on_signals_and_restarts_on_its_port():
    proc, port = start(0)
    address = f"127.0.0.1:{port}"
    try:
        ch = connect(address, timeout=5)
        assert echo(ch, b"one") == b"one"
        proc.send_signal(signal.SIGTERM)    # ch is mid-session: cut off after the grace
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "SIGTERM received" in err and "cutting off 1 running session" in err
        with pytest.raises(ProtocolError):
            ch.recv(ServiceKind.HELLO)

        proc, _ = start(port, signal.SIGINT)  # same port again, though ch's pair may linger
        ch = connect(address, timeout=5)
        assert echo(ch, b"two") == b"two"
        finish(ch)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "SIGINT received" in err, err

        proc, _ = start(port)
        proc.kill()                         # no goodbye at all
        proc.wait(timeout=10)
        proc, _ = start(port)
        ch = connect(address, timeout=5)
        assert echo(ch, b"three") == b"three"
        finish(ch)
    finally:
        proc.kill()
        proc.wait(timeout=10)

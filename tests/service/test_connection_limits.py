"""Each bound on a connection, attacked on its own against a real server on 127.0.0.1, with
deadlines shortened through the Server's constructor: a whole frame has a deadline, the login
has one (the TLS handshake included), one address gets a bounded share of the slots, and a
stranger stalled on its own bytes makes room for a newcomer; an authenticated session never
does."""
import datetime
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from .net_testkit import echo, finish, host_port, raw, running
from .slow_peers_kit import header

from veil.service.client import RemoteError, ServiceChannel, connect
from veil.service.frames import ServiceKind


def refusal(sock, within: float = 5.0) -> tuple[str, float]:
    """The server's ERROR reason on a raw socket, and how long it took to come."""
    t0 = time.monotonic()
    with pytest.raises(RemoteError) as e:
        ServiceChannel(sock, timeout=within).recv(ServiceKind.HELLO)
    return str(e.value), time.monotonic() - t0


def closed(sock, within: float = 5.0) -> bool:
    """True when the server closed the connection (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionError:
        return True
    except TimeoutError:
        return False


def trickle(sock, data: bytes, every: float = 0.3, give_up: float = 6.0) -> tuple[bool, float]:
    """Send `data` a byte every `every` seconds until the server drops the connection; (was
    it dropped, after how many seconds)."""
    t0 = time.monotonic()
    for b in data:
        if time.monotonic() - t0 > give_up:
            break
        try:
            sock.sendall(bytes([b]))
        except OSError:
            return True, time.monotonic() - t0
        if closed(sock, within=every):
            return True, time.monotonic() - t0
    return False, time.monotonic() - t0


# -- the frame deadline -----------------------------------------------------------------------
def test_a_header_then_silence_is_cut_by_the_frame_deadline():
    """The silence timeout is a minute here; before the fix nothing else bounded the frame."""
    with running(timeout=60, frame_seconds=1.0) as server:
        peer = raw(server)
        peer.sendall(header(ServiceKind.HELLO, 100))
        reason, took = refusal(peer)
    assert "timed out" in reason and "frame" in reason and 0.8 < took < 4


def test_a_trickle_within_the_silence_timeout_is_cut_by_the_frame_deadline():
    """A byte every 0.3 s never trips a 2 s silence timeout (the per-read timeout before the
    fix, which kept such a peer forever); the frame deadline cuts it."""
    with running(timeout=2.0, frame_seconds=1.5) as server:
        cut, took = trickle(raw(server), header(ServiceKind.HELLO, 100) + bytes(100))
    assert cut and 1.2 < took < 4


def test_a_big_frame_at_an_honest_rate_is_not_cut():
    """Deadline 0.5 s + size at 200 kB/s; a 400 kB frame sent at about 400 kB/s arrives."""
    with running(timeout=5, frame_seconds=0.5, frame_rate=200_000) as server:
        ch = connect(host_port(server), timeout=5)
        payload = bytes(range(256)) * 1600
        frame = header(ServiceKind.HELLO, len(payload)) + payload
        for at in range(0, len(frame), 20_000):
            ch.sock.sendall(frame[at:at + 20_000])
            time.sleep(0.05)
        assert ch.recv(ServiceKind.HELLO, max_payload=1 << 20) == payload
        finish(ch)


# -- the login deadline -----------------------------------------------------------------------
def test_a_peer_that_never_logs_in_is_cut_by_the_login_deadline():
    """Complete, prompt frames keep every other clock happy; before the fix it stayed."""
    with running(login_seconds=1.0) as server:
        ch = connect(host_port(server), timeout=5)
        t0 = time.monotonic()
        with pytest.raises(RemoteError, match="login not completed within 1 s"):
            while time.monotonic() - t0 < 5:
                echo(ch, b"still here")
                time.sleep(0.2)
        assert 0.8 < time.monotonic() - t0 < 3


def test_an_authenticated_session_outlives_the_login_deadline():
    def handler(channel, peer):
        channel.recv(ServiceKind.HELLO, max_payload=16)
        channel.mark_authenticated()
        channel.send(ServiceKind.HELLO, b"welcome")
        while payload := channel.recv(ServiceKind.HELLO, max_payload=16):
            channel.send(ServiceKind.HELLO, payload)
        channel.send(ServiceKind.DONE, b"")

    with running(handler, login_seconds=0.5) as server:
        ch = connect(host_port(server), timeout=5)
        assert echo(ch, b"login") == b"welcome"
        time.sleep(1.0)
        assert echo(ch, b"later") == b"later"
        finish(ch)


def tls_context(tmp_path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    return ctx


def test_a_trickled_tls_handshake_is_cut_by_the_login_deadline(tmp_path):
    """Before the fix each of the handshake's reads had the whole (here 60 s) timeout."""
    hello = bytes.fromhex("160301") + (200).to_bytes(2, "big") + bytes(200)
    with running(tls_context=tls_context(tmp_path), timeout=60, login_seconds=1.0) as server:
        cut, took = trickle(raw(server), hello)
    assert cut and 0.8 < took < 4


# -- caps on connections ----------------------------------------------------------------------
def busy_handler(release: threading.Event):
    """Takes one frame, then works (not waiting on its peer) until released."""
    def handler(channel, peer):
        channel.recv(ServiceKind.HELLO, max_payload=16)
        release.wait(10)
        channel.send(ServiceKind.DONE, b"")
    return handler


def test_one_address_gets_a_bounded_share():
    """Two busy sessions from 127.0.0.1 fill its share; a third is refused in one line though
    four slots are free. Before the fix it was let in (and here waited for the others)."""
    release = threading.Event()
    with running(busy_handler(release), max_connections=6, max_per_address=2) as server:
        busy = [connect(host_port(server), timeout=5) for _ in range(2)]
        for ch in busy:
            ch.send(ServiceKind.HELLO, b"work")
        time.sleep(0.3)
        third = raw(server)
        third.sendall(header(ServiceKind.HELLO, 4) + b"work")
        reason, took = refusal(third, within=3)
        assert reason == "too many connections from 127.0.0.1" and took < 2
        release.set()
        for ch in busy:
            ch.recv(ServiceKind.DONE)
            ch.close()


def test_a_stalled_stranger_makes_room_for_a_newcomer_from_its_address():
    """Two silent strangers fill 127.0.0.1's share; a newcomer is served and the one that
    waited longest is evicted. Before the fix neither was (nor was a share enforced)."""
    with running(max_per_address=2, evict_after=0.2, timeout=30) as server:
        first = raw(server)
        time.sleep(0.1)
        second = raw(server)
        time.sleep(0.4)
        ch = connect(host_port(server), timeout=5)
        assert echo(ch, b"newcomer") == b"newcomer"
        finish(ch)
        assert closed(first, within=2) and not closed(second, within=0.2)


def test_a_newcomer_is_held_until_a_stranger_has_stalled_long_enough():
    """Rather than refused while its address's strangers are too fresh to evict."""
    with running(max_per_address=2, evict_after=0.5, timeout=30) as server:
        silent = [raw(server) for _ in range(2)]
        time.sleep(0.1)
        t0 = time.monotonic()
        ch = connect(host_port(server), timeout=5)
        assert echo(ch, b"held") == b"held"
        assert 0.3 < time.monotonic() - t0 < 1.5
        finish(ch)
        assert sum(closed(s, within=0.5) for s in silent) == 1


def test_stalled_strangers_make_room_when_every_slot_is_taken():
    """Before the fix the newcomer waited in the backlog until a silent peer timed out."""
    with running(max_connections=2, evict_after=0.2, timeout=30) as server:
        silent = [raw(server) for _ in range(2)]
        time.sleep(0.5)
        t0 = time.monotonic()
        ch = connect(host_port(server), timeout=5)
        assert echo(ch, b"newcomer") == b"newcomer" and time.monotonic() - t0 < 2
        finish(ch)
        for s in silent:
            s.close()


def test_an_authenticated_session_is_never_evicted():
    def handler(channel, peer):
        channel.recv(ServiceKind.HELLO, max_payload=16)
        channel.mark_authenticated()
        while payload := channel.recv(ServiceKind.HELLO, max_payload=16):
            channel.send(ServiceKind.HELLO, payload)
        channel.send(ServiceKind.DONE, b"")

    with running(handler, max_per_address=2, evict_after=0.1) as server:
        users = [connect(host_port(server), timeout=5) for _ in range(2)]
        for ch in users:
            ch.send(ServiceKind.HELLO, b"login")
        time.sleep(0.5)                              # both idle, waiting on their peers
        reason, _ = refusal(raw(server), within=3)
        assert reason == "too many connections from 127.0.0.1"
        for ch in users:
            assert echo(ch, b"still") == b"still"
            finish(ch)

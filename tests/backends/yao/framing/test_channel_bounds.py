"""A SocketChannel's bounds on its peer, over a socketpair: a receive buffer grows as bytes
arrive (tracemalloc), a whole frame has a deadline however its bytes are timed, a big frame at
an honest rate passes, and an absolute deadline holds until `mark_authenticated`."""
import socket
import threading
import time
import tracemalloc

import pytest

from veil.backends.yao.framing.channel import (HEADER, InProcessChannel, PeerClosed,
                                               ProtocolError, SocketChannel)
from veil.backends.yao.framing.kinds import Kind


def pair(**options):
    a, b = socket.socketpair()
    return a, SocketChannel(b, **options)


def test_an_announced_gigabyte_costs_what_arrived():
    """Before the fix the receiver allocated the announced length before reading any of it."""
    raw, ch = pair(timeout=5)
    errors = []

    def receive():
        try:
            ch.recv(Kind.GARBLED_TABLES, max_payload=1 << 30)
        except ProtocolError as e:
            errors.append(e)

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        thread = threading.Thread(target=receive)
        thread.start()
        raw.sendall(HEADER.pack(b"VL", 1, int(Kind.GARBLED_TABLES), 1 << 30) + b"x" * 10)
        time.sleep(0.3)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    raw.close()
    thread.join(5)
    assert peak < 1 << 20, f"{peak} bytes allocated for 22 received"
    assert len(errors) == 1 and isinstance(errors[0], PeerClosed)


def test_a_trickled_frame_is_cut_by_its_deadline():
    """Every byte comes well within the silence timeout; the frame as a whole does not."""
    raw, ch = pair(timeout=2, frame_seconds=0.6)
    frame = HEADER.pack(b"VL", 1, int(Kind.LABELS), 50) + bytes(50)

    def trickle():
        for b in frame:
            try:
                raw.sendall(bytes([b]))
            except OSError:
                return
            time.sleep(0.1)

    thread = threading.Thread(target=trickle)
    thread.start()
    t0 = time.monotonic()
    with pytest.raises(ProtocolError, match="took longer than 0.6"):
        ch.recv(Kind.LABELS)
    assert 0.5 < time.monotonic() - t0 < 2
    raw.close()
    thread.join(10)


def test_the_deadline_counts_from_the_first_byte_not_from_the_wait():
    """A peer may think for longer than a frame's deadline before it starts sending."""
    raw, ch = pair(timeout=5, frame_seconds=0.3)
    timer = threading.Timer(0.6, lambda: raw.sendall(
        HEADER.pack(b"VL", 1, int(Kind.LABELS), 3) + b"abc"))
    timer.start()
    assert ch.recv(Kind.LABELS) == b"abc"
    timer.join()


def test_a_big_frame_at_a_steady_rate_passes():
    """1 MB at about 2 MB/s under a 0.2 s + 1 MB/s deadline (which allows 1.2 s)."""
    raw, ch = pair(timeout=5, frame_seconds=0.2, frame_rate=1_000_000)
    payload = bytes(range(256)) * 4096
    frame = HEADER.pack(b"VL", 1, int(Kind.LABELS), len(payload)) + payload

    def send():
        for at in range(0, len(frame), 100_000):
            raw.sendall(frame[at:at + 100_000])
            time.sleep(0.05)

    thread = threading.Thread(target=send)
    thread.start()
    assert ch.recv(Kind.LABELS, max_payload=1 << 21) == payload
    thread.join(5)


def test_an_absolute_deadline_until_authenticated():
    raw, ch = pair(timeout=5)
    ch.set_deadline(time.monotonic() + 0.3, "login not completed within 0.3 s")
    t0 = time.monotonic()
    with pytest.raises(ProtocolError, match="^timed out: login not completed within 0.3 s$"):
        ch.recv(Kind.LABELS)
    assert time.monotonic() - t0 < 1
    with pytest.raises(ProtocolError, match="login not completed"):
        ch.send(Kind.LABELS, b"late")

    raw, ch = pair(timeout=5)
    ch.set_deadline(time.monotonic() + 0.3, "login not completed within 0.3 s")
    ch.mark_authenticated()
    threading.Timer(0.5, lambda: raw.sendall(
        HEADER.pack(b"VL", 1, int(Kind.LABELS), 2) + b"ok")).start()
    assert ch.recv(Kind.LABELS) == b"ok"


def test_waiting_since_says_when_the_channel_waits_on_its_peer():
    raw, ch = pair(timeout=5)
    assert ch.waiting_since is None
    seen = []
    threading.Timer(0.3, lambda: (seen.append(ch.waiting_since), raw.sendall(
        HEADER.pack(b"VL", 1, int(Kind.LABELS), 1) + b"z"))).start()
    t0 = time.monotonic()
    assert ch.recv(Kind.LABELS) == b"z"
    assert seen[0] is not None and abs(seen[0] - t0) < 0.1 and ch.waiting_since is None


def test_a_channel_without_a_silence_timeout_waits_as_long_as_it_takes():
    raw, ch = pair(timeout=None)
    threading.Timer(0.2, lambda: raw.sendall(
        HEADER.pack(b"VL", 1, int(Kind.LABELS), 2) + b"ok")).start()
    assert ch.recv(Kind.LABELS) == b"ok"
    ch.send(Kind.LABELS, b"back")
    assert raw.recv(64).endswith(b"back")


def test_in_process_channels_accept_the_hook():
    a, _ = InProcessChannel.pair(timeout=1)
    a.mark_authenticated()

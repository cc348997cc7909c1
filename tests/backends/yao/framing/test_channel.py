"""Framing and payload checks: what a party receives is checked before it is used."""
import socket
import struct
import threading

import numpy as np
import pytest

from veil.backends.yao.framing.channel import HEADER, InProcessChannel, ProtocolError, SocketChannel
from veil.backends.yao.framing.kinds import Kind, register_kind
from veil.backends.yao.framing.payloads import pack_array, pack_ints, unpack_array, unpack_ints

PING = register_kind(250, "PING")       # a kind of the tests' own, as a layer above registers its own


def socket_pair():
    a, b = socket.socketpair()
    return SocketChannel(a, timeout=5), SocketChannel(b, timeout=5)


@pytest.mark.parametrize("make", [InProcessChannel.pair, socket_pair])
def test_round_trip_and_byte_counts(make):
    a, b = make()
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    a.send(Kind.LABELS, pack_array(arr))
    a.send(Kind.INTEGERS, pack_ints([0, 5, 2 ** 100], 13))
    got = unpack_array(b.recv(Kind.LABELS), np.uint8, (2, None, 4))
    assert np.array_equal(got, arr)
    assert unpack_ints(b.recv(Kind.INTEGERS), bound=2 ** 101) == [0, 5, 2 ** 100]
    assert a.bytes_sent == b.bytes_received > 0 and b.bytes_sent == a.bytes_received == 0
    a.close(), b.close()


@pytest.mark.parametrize("frame,expected,limit,message", [
    (HEADER.pack(b"VL", 1, int(PING), 1) + b"x", Kind.OT, None,
     "unexpected message: PING, expected OT"),
    (HEADER.pack(b"XX", 1, 250, 0), PING, None, "bad magic"),
    (HEADER.pack(b"VL", 9, 250, 0), PING, None, "version 9"),
    (HEADER.pack(b"VL", 1, 250, 10 ** 12), PING, 1000, "exceeds the limit"),
    (HEADER.pack(b"VL", 1, 200, 0), PING, None, "unknown kind 200"),
    (b"VL\x01", PING, None, "timed out"),
])
def test_rejects_bad_frames(frame, expected, limit, message):
    # After a ProtocolError the stream is out of step: the party drops the connection.
    a, b = InProcessChannel.pair(timeout=0.5)
    a._send_bytes(frame)
    with pytest.raises(ProtocolError, match=message):
        b.recv(expected, max_payload=limit)


def test_socket_peer_closing_mid_message():
    x, y = socket.socketpair()
    b = SocketChannel(y, timeout=5)
    x.sendall(HEADER.pack(b"VL", 1, int(Kind.LABELS), 100) + b"short")
    x.close()
    with pytest.raises(ProtocolError, match="connection closed"):
        b.recv(Kind.LABELS)


def test_socket_across_threads_large_message():
    a, b = socket_pair()
    big = np.frombuffer(np.random.default_rng(0).bytes(5_000_000), np.uint8).reshape(-1, 16)
    t = threading.Thread(target=lambda: a.send(Kind.GARBLED_TABLES, pack_array(big)))
    t.start()
    got = unpack_array(b.recv(Kind.GARBLED_TABLES), np.uint8, (None, 16))
    t.join()
    assert np.array_equal(got, big)


@pytest.mark.parametrize("payload,shape,message", [
    (pack_array(np.zeros((2, 3), np.uint8)), (2, 4), "shape"),
    (pack_array(np.zeros((2, 3), np.uint8)), (2,), "dimensions"),
    (pack_array(np.zeros(3, np.int64)), (3,), "dtype"),
    (pack_array(np.zeros((2, 3), np.uint8))[:-1], (2, 3), "data bytes"),
    (b"\x01", (1,), "too short"),
    (bytes([7, 1]) + struct.pack(">Q", 1) + b"\x00", (1,), "dtype code 7"),
])
def test_malformed_arrays(payload, shape, message):
    with pytest.raises(ProtocolError, match=message):
        unpack_array(payload, np.uint8, shape)


def test_malformed_integers():
    good = pack_ints([1, 2, 3], 4)
    with pytest.raises(ProtocolError, match="3 values, expected 2"):
        unpack_ints(good, bound=2 ** 32, count=2)
    with pytest.raises(ProtocolError, match="out of range"):
        unpack_ints(pack_ints([10], 1), bound=10)
    with pytest.raises(ProtocolError, match="bytes for"):
        unpack_ints(good[:-1], bound=2 ** 32)
    with pytest.raises(ProtocolError, match="width"):
        unpack_ints(pack_ints([1], 64), bound=2 ** 32)

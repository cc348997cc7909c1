"""The admission policy on its own, with fake channels: who is evicted to make room for a
newcomer, and when a newcomer is refused or kept waiting instead."""
import socket
import time

import pytest

from veil.service.admission import Admission

A, B = ("127.0.0.1", 1000), ("::1", 2000)


class Waiting:
    """Stands for a channel that has waited `seconds` on its peer (None: computing)."""

    def __init__(self, seconds):
        self.waiting_since = None if seconds is None else time.monotonic() - seconds


@pytest.fixture
def sock():
    s = socket.socket()
    yield s
    s.close()


def admit(adm, cid, peer, waited, sock, authenticated=False):
    d = adm.admit(cid, sock, peer)
    assert d.slot is not None, d.refusal
    d.slot.channel = Waiting(waited)
    d.slot.authenticated = authenticated
    return d.slot


def test_below_the_caps_everyone_is_admitted_and_no_one_evicted(sock):
    adm = Admission(total=4, per_address=2, evict_after=0.1)
    admit(adm, 1, A, 10, sock)
    admit(adm, 2, B, 10, sock)
    d = adm.admit(3, sock, A)
    assert d.slot is not None and d.victim is None and adm.count() == 3


def test_at_its_address_share_the_longest_stalled_stranger_of_that_address_goes(sock):
    adm = Admission(total=10, per_address=3, evict_after=0.1)
    admit(adm, 1, A, 2.0, sock)
    longest = admit(adm, 2, A, 5.0, sock)
    admit(adm, 3, A, None, sock)                 # computing: not waiting on its peer
    admit(adm, 4, B, 50.0, sock)                 # another address is not A's to give up
    d = adm.admit(5, sock, A)
    assert d.victim is longest and longest.evicted and 4.9 < d.waited < 5.5
    assert adm.count() == 5                      # the victim's thread has yet to finish
    adm.release(longest)
    assert adm.count() == 4


def test_a_share_of_busy_or_authenticated_sessions_refuses_the_newcomer(sock):
    adm = Admission(total=10, per_address=2, evict_after=0.1)
    admit(adm, 1, A, None, sock)
    admit(adm, 2, A, 60.0, sock, authenticated=True)
    d = adm.admit(3, sock, A)
    assert d.slot is None and d.refusal == "too many connections from 127.0.0.1"


def test_a_stranger_is_evicted_only_after_it_stalled_long_enough(sock):
    adm = Admission(total=10, per_address=1, evict_after=1.0)
    young = admit(adm, 1, A, 0.5, sock)
    d = adm.admit(2, sock, A)
    assert d.slot is None and d.later and not young.evicted     # worth holding on
    young.channel = Waiting(1.5)
    assert adm.admit(3, sock, A).victim is young


def test_a_newcomer_is_not_held_for_busy_sessions(sock):
    adm = Admission(total=10, per_address=1, evict_after=1.0)
    admit(adm, 1, A, None, sock)
    d = adm.admit(2, sock, A)
    assert d.slot is None and not d.later


def test_a_stranger_still_in_its_tls_handshake_counts_as_waiting(sock):
    adm = Admission(total=10, per_address=1, evict_after=0.0)
    handshaking = adm.admit(1, sock, A).slot     # no channel yet
    assert adm.admit(2, sock, A).victim is handshaking


def test_when_every_slot_is_taken_the_longest_stalled_stranger_anywhere_goes(sock):
    adm = Admission(total=3, per_address=3, evict_after=0.1)
    admit(adm, 1, A, 1.0, sock)
    longest = admit(adm, 2, B, 9.0, sock)
    admit(adm, 3, A, 3.0, sock)
    assert adm.has_room()
    d = adm.admit(4, sock, A)
    assert d.victim is longest


def test_when_every_slot_is_busy_there_is_no_room(sock):
    adm = Admission(total=2, per_address=2, evict_after=0.1)
    admit(adm, 1, A, None, sock)
    admit(adm, 2, B, 30.0, sock, authenticated=True)
    assert not adm.has_room()
    assert adm.admit(3, sock, B).refusal == "the server is busy: retry later"


def test_caps_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        Admission(total=0, per_address=1, evict_after=0.1)

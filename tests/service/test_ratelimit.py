"""The rate limiter: sliding window with an injected clock, the one-line refusal, unlimited
modes, and no over-reservation when requests race."""
from __future__ import annotations

import threading

import pytest

from veil.service.ratelimit import RateLimited, RateLimiter
from veil.service.store import Store


class Clock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "cloud") as s:
        yield s


@pytest.fixture
def alice(store):
    return store.register_user("alice", b"alice public key")


def test_sliding_window_and_message(store, alice):
    clock = Clock(0.0)
    limiter = RateLimiter(store, 4096, clock=clock)
    limiter.reserve(alice, "compact", 3000)
    clock.now = 1200.0
    limiter.reserve(alice, "compact", 1000)
    clock.now = 2000.0
    with pytest.raises(RateLimited) as e:
        limiter.reserve(alice, "compact", 200)
    # The 3000 patches of t=0 leave the window at t=3600, 1600 s = 26.7 min from now.
    assert str(e.value) == ("rate limit: user alice, model compact: 4000 of 4096 patches used "
                            "in the last hour; 200 more requested; retry in 27 min")
    assert e.value.retry_after == pytest.approx(1600.0)
    assert store.usage_since(alice, "compact", 0) == 4000             # refusal records nothing
    limiter.reserve(alice, "compact", 96)                              # exactly up to the limit
    with pytest.raises(RateLimited, match="4096 of 4096 patches used"):
        limiter.reserve(alice, "compact", 1)
    clock.now = 3600.5                                                 # t=0 has left the window
    assert limiter.used(alice, "compact") == 1096
    limiter.reserve(alice, "compact", 3000)
    assert limiter.used(alice, "compact") == 4096


def test_retry_waits_for_enough_old_usage_to_leave(store, alice):
    clock = Clock(0.0)
    limiter = RateLimiter(store, 100, window_seconds=600, clock=clock)
    for t in (0.0, 100.0, 200.0):
        clock.now = t
        limiter.reserve(alice, "tiny", 30)
    clock.now = 300.0
    with pytest.raises(RateLimited) as e:           # needs the first two records (60) gone
        limiter.reserve(alice, "tiny", 50)
    assert e.value.retry_after == pytest.approx(400.0)
    assert str(e.value).endswith("90 of 100 patches used in the last 10 min; 50 more "
                                 "requested; retry in 7 min")
    clock.now = 659.0                               # only the first record has left: 60 + 50
    with pytest.raises(RateLimited, match="retry in 41 s"):
        limiter.reserve(alice, "tiny", 50)
    clock.now = 700.5
    limiter.reserve(alice, "tiny", 50)


def test_request_over_the_limit_can_never_pass(store, alice):
    limiter = RateLimiter(store, 4096, clock=Clock())
    with pytest.raises(RateLimited) as e:
        limiter.reserve(alice, "compact", 5000)
    assert str(e.value) == ("rate limit: user alice, model compact: 5000 patches requested but "
                            "the limit is 4096 per hour")
    assert e.value.retry_after is None
    assert limiter.used(alice, "compact") == 0


def test_limits_are_per_user_and_model_and_name_unknown_users_by_id(store, alice):
    limiter = RateLimiter(store, 10, clock=Clock(50.0))
    limiter.reserve(alice, "compact", 10)
    limiter.reserve(alice, "tiny", 10)
    limiter.reserve("ab" * 32, "compact", 10)
    with pytest.raises(RateLimited, match=r"^rate limit: user abababababab, model compact: 10 "):
        limiter.reserve("ab" * 32, "compact", 1)


@pytest.mark.parametrize("limit", [0, None])
def test_unlimited_still_records(store, alice, limit):
    limiter = RateLimiter(store, limit, clock=Clock(5.0))
    for _ in range(3):
        limiter.reserve(alice, "compact", 10**6)
    assert store.usage_since(alice, "compact", 0) == 3 * 10**6


def test_bad_arguments(store, alice):
    with pytest.raises(ValueError, match="patches per hour"):
        RateLimiter(store, -1)
    with pytest.raises(ValueError, match="window must be positive"):
        RateLimiter(store, 10, window_seconds=0)
    with pytest.raises(ValueError, match="non-negative integer"):
        RateLimiter(store, 10).reserve(alice, "compact", -5)


def test_concurrent_reservations_never_exceed_the_limit(store, alice):
    limiter = RateLimiter(store, 100, clock=Clock(10.0))
    granted, refused, errors = [], [], []
    start = threading.Barrier(16)

    def work():
        start.wait()
        for _ in range(10):
            try:
                limiter.reserve(alice, "compact", 1)
                granted.append(1)
            except RateLimited:
                refused.append(1)
            except BaseException as e:                # e.g. "database is locked"
                errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert (len(granted), len(refused)) == (100, 60)
    assert store.usage_since(alice, "compact", 0) == 100

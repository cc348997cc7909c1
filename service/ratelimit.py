"""Per (user, model) rate limit over a sliding window of the usage the store records.

`reserve` checks and records in one store transaction, so concurrent requests cannot both
pass on the same remaining allowance. A refusal says when enough past usage will have left
the window for this request to fit.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from veil.service.store import Store
from veil.util.errors import ServiceError


class RateLimited(ServiceError):
    """A request over the limit; the message is one line, with when to retry."""

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after           # seconds; None when retrying cannot help


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, math.ceil(seconds))} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@dataclass(frozen=True)
class RateLimiter:
    store: Store
    patches_per_hour: int | None               # per window; 0 or None: unlimited
    window_seconds: float = 3600
    clock: Callable[[], float] = time.time

    def __post_init__(self):
        if self.patches_per_hour is not None and (
                not isinstance(self.patches_per_hour, int) or self.patches_per_hour < 0):
            raise ValueError(f"patches per hour must be a non-negative integer or None, "
                             f"got {self.patches_per_hour!r}")
        if not self.window_seconds > 0:
            raise ValueError(f"rate limit window must be positive, got {self.window_seconds!r}")

    @property
    def unlimited(self) -> bool:
        return not self.patches_per_hour

    def used(self, user_id: str, model_name: str) -> int:
        """Patches used in the current window."""
        return self.store.usage_since(user_id, model_name, self.clock() - self.window_seconds)

    def reserve(self, user_id: str, model_name: str, patches: int) -> None:
        """Record `patches` for (user, model), or raise RateLimited without recording."""
        if not isinstance(patches, int) or patches < 0:
            raise ValueError(f"patches must be a non-negative integer, got {patches!r}")
        now = self.clock()
        if self.unlimited:
            self.store.record_usage(user_id, model_name, patches, now)
            return
        limit = self.patches_per_hour
        if patches > limit:
            raise RateLimited(f"rate limit: {self._who(user_id, model_name)}: {patches} patches "
                              f"requested but the limit is {limit} per {self._window()}", None)
        r = self.store.reserve_usage(user_id, model_name, patches, now,
                                     now - self.window_seconds, limit)
        if r.granted:
            return
        # Oldest records leave the window first; wait until enough of them have gone.
        excess, freed, retry = r.used + patches - limit, 0, 0.0
        for at, amount in r.entries:
            freed += amount
            if freed >= excess:
                retry = max(0.0, at + self.window_seconds - now)
                break
        raise RateLimited(
            f"rate limit: {self._who(user_id, model_name)}: {r.used} of {limit} patches used in "
            f"the last {self._window()}; {patches} more requested; retry in {_duration(retry)}",
            retry)

    def _who(self, user_id: str, model_name: str) -> str:
        user = self.store.user(user_id)
        return f"user {user.name if user else user_id[:12]}, model {model_name}"

    def _window(self) -> str:
        return "hour" if self.window_seconds == 3600 else _duration(self.window_seconds)

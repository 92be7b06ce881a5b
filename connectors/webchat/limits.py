"""A per-conversation message budget, so one visitor cannot flood the assistant."""

from __future__ import annotations

import time
from collections import OrderedDict


class RateLimiter:
    """A token bucket per key: `burst` messages at once, then `per_minute` a minute.

    It lives in the process: behind a load balancer each process keeps its own budget.
    """

    def __init__(self, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float | None = None) -> float:
        """0 if `key` may send now (and spends one), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        tokens, since = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - since) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / self.rate
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

"""A per-conversation message budget, so one visitor cannot flood the assistant.

With one server process the budget lives in the process. With several (a Redis lock store),
it lives in Redis, so a visitor whose messages reach two processes still has one budget.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

logger = logging.getLogger(__name__)

#: a token bucket in Redis, in one step; Redis's own clock, the same for every process
TOKEN_BUCKET = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RateLimiter:
    """A token bucket per key: `burst` messages at once, then `per_minute` a minute, in
    this process."""

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

    async def spend(self, key: str) -> float:
        return self.take(key)


class SharedRateLimiter(RateLimiter):
    """The same budget, kept in Redis for every server process. While Redis does not
    answer, each process keeps its own (logged), rather than refuse every visitor."""

    def __init__(self, redis: Any, prefix: str, per_minute: float, burst: int) -> None:
        super().__init__(per_minute, burst)
        self.redis = redis
        self.prefix = prefix
        self._script = redis.register_script(TOKEN_BUCKET)
        self._warned = 0.0

    async def spend(self, key: str) -> float:
        from redis.exceptions import RedisError

        try:
            wait = await self._script(keys=[self.prefix + key], args=[self.rate, self.burst])
        except (RedisError, OSError) as error:
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                logger.warning("Redis did not answer (%s): message budgets are per process", error)
            return self.take(key)
        return float(wait)

"""The message ids the web chat has taken, so that a message resent after a lost connection
is answered once. In the process with one server process; in Redis with several, where a
resend may reach another process than the first try."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

logger = logging.getLogger(__name__)

#: ids remembered in a process
REMEMBERED = 50_000
#: how long (seconds) Redis remembers an id: far longer than a widget keeps a message
REMEMBER_SECONDS = 24 * 3600


class SeenMessages:
    def __init__(self, remembered: int = REMEMBERED) -> None:
        self.remembered = remembered
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def first_time(self, session_id: str, message_id: str) -> bool:
        """True the first time the message is seen (it is remembered from now on)."""
        return self._remember(session_id, message_id)

    async def forget(self, session_id: str, message_id: str) -> None:
        """It was not taken after all (refused, failed): it may come again."""
        self._seen.pop((session_id, message_id), None)

    def _remember(self, session_id: str, message_id: str) -> bool:
        key = (session_id, message_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.remembered:
            self._seen.popitem(last=False)
        return True


class SharedSeenMessages(SeenMessages):
    """In Redis for every server process; in the process (logged) while Redis is away."""

    def __init__(self, redis: Any, prefix: str) -> None:
        super().__init__()
        self.redis = redis
        self.prefix = prefix
        self._warned = 0.0

    def _key(self, session_id: str, message_id: str) -> str:
        return f"{self.prefix}{session_id}:{message_id}"

    async def first_time(self, session_id: str, message_id: str) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(
                await self.redis.set(
                    self._key(session_id, message_id), 1, nx=True, ex=REMEMBER_SECONDS
                )
            )
        except (RedisError, OSError) as error:
            self._warn(error)
            return self._remember(session_id, message_id)

    async def forget(self, session_id: str, message_id: str) -> None:
        from redis.exceptions import RedisError

        await super().forget(session_id, message_id)
        try:
            await self.redis.delete(self._key(session_id, message_id))
        except (RedisError, OSError) as error:
            self._warn(error)

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            logger.warning("Redis did not answer (%s): message ids are kept per process", error)

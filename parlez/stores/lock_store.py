"""Lock stores: one message at a time per conversation, across tasks and server processes.

Messages of one user are handled in the order they arrived (asyncio's locks are FIFO) and
never interleave. With several `parlez run` processes behind a load balancer, the Redis
store adds a lock that all processes share; it expires after `lock_lifetime` seconds so a
process that dies holding it cannot block the conversation for good.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from parlez.deprecation import moved
from parlez.endpoints import EndpointConfig
from parlez.extras import optional
from parlez.registry import lock_stores
from parlez.stores.errors import StoreUnavailableError

logger = logging.getLogger(__name__)

DEFAULT_LOCK_LIFETIME = 60.0
DEFAULT_KEY_PREFIX = "lock:"


@dataclass(frozen=True)
class SharedRedis:
    """Where server processes meet: a Redis URL (its password included: never log it), the
    prefix of this assistant's keys, and the lock store's client, whose connections what
    else is shared uses too (the lock store closes it)."""

    url: str
    key_prefix: str
    client: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"SharedRedis(key_prefix={self.key_prefix!r})"


class LockStore:
    """The in-process part every lock store has: a FIFO lock per conversation."""

    #: the Redis server several server processes share through this store, if any: what
    #: else they must share (socket.io's rooms, the web chat's limits) goes there too
    shared_redis: SharedRedis | None = None

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @classmethod
    def from_endpoint(cls, config: EndpointConfig, project: Path | None = None) -> LockStore:
        """The store `lock_store:` in endpoints.yml configures (`cls(config)` for the
        user's own)."""
        factory: Any = cls
        store: LockStore = factory(config)
        return store

    @asynccontextmanager
    async def lock(self, sender_id: str) -> AsyncIterator[None]:
        local = self._locks.setdefault(sender_id, asyncio.Lock())
        self._users[sender_id] = self._users.get(sender_id, 0) + 1
        try:
            async with local, self.shared_lock(sender_id):
                yield
        finally:
            # Forget idle conversations, so thousands of users do not leave thousands of locks.
            self._users[sender_id] -= 1
            if not self._users[sender_id]:
                del self._users[sender_id]
                del self._locks[sender_id]

    @asynccontextmanager
    async def shared_lock(self, sender_id: str) -> AsyncIterator[None]:
        """The lock other processes see; none for a single process."""
        yield

    async def ping(self) -> None:
        """Raise when the store cannot take a lock now (the server's readiness)."""
        return None

    async def close(self) -> None:
        """Release connections (the in-process locks hold none)."""
        return None


@lock_stores.register("in_memory", "inmemory", "memory")
class InMemoryLockStore(LockStore):
    @classmethod
    def from_endpoint(
        cls, config: EndpointConfig, project: Path | None = None
    ) -> InMemoryLockStore:
        return cls()


@lock_stores.register("redis")
class RedisLockStore(LockStore):
    """Rasa's keys: `url` (host), `port`, `db`, `username`, `password`, `use_ssl`,
    `key_prefix`, `socket_timeout`; `lock_lifetime` (or `LOCK_LIFETIME`) in seconds."""

    def __init__(self, config: EndpointConfig) -> None:
        super().__init__()
        redis = optional("redis.asyncio", "the Redis lock store")

        options = config.kwargs
        self.key_prefix = str(options.get("key_prefix") or "") + DEFAULT_KEY_PREFIX
        self.lifetime = float(
            options.get("lock_lifetime") or os.environ.get("LOCK_LIFETIME") or DEFAULT_LOCK_LIFETIME
        )
        host = config.url or str(options.get("host") or "localhost")
        port, db = int(options.get("port") or 6379), int(options.get("db") or 0)
        username, password = options.get("username"), options.get("password")
        ssl = bool(options.get("use_ssl", False))
        self.redis = redis.Redis(
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            ssl=ssl,
            socket_timeout=float(options.get("socket_timeout") or 10),
        )
        credentials = ""
        if username or password:
            credentials = (
                f"{quote(str(username or ''), safe='')}:{quote(str(password or ''), safe='')}@"
            )
        self.shared_redis = SharedRedis(
            f"{'rediss' if ssl else 'redis'}://{credentials}{host}:{port}/{db}",
            str(options.get("key_prefix") or ""),
            self.redis,
        )

    @asynccontextmanager
    async def shared_lock(self, sender_id: str) -> AsyncIterator[None]:
        from redis.exceptions import ConnectionError, LockError, TimeoutError

        lock: Any = self.redis.lock(
            self.key_prefix + sender_id,
            timeout=self.lifetime,
            sleep=0.005,
            # Long enough for a lock left by a dead process to expire and be taken.
            blocking_timeout=self.lifetime + 5,
        )
        try:
            acquired = await lock.acquire()
        except (ConnectionError, TimeoutError, OSError) as error:
            raise StoreUnavailableError(
                f"the Redis lock store did not answer: {error}",
                hint="check that Redis is running at the lock_store's url and port",
            ) from error
        if not acquired:
            raise StoreUnavailableError(
                f"the conversation '{sender_id}' stayed locked for {self.lifetime + 5:.0f} s",
                hint="another server process is still handling a message of this conversation",
            )
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:
                # It outlived `lock_lifetime` and expired: say so, the events are saved.
                logger.warning("the lock of '%s' expired before the message was done", sender_id)
            except (ConnectionError, TimeoutError, OSError):
                logger.warning(
                    "could not release the lock of '%s'; it expires by itself", sender_id
                )

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


def __getattr__(name: str) -> Any:
    return moved(__name__, name)  # the names that moved: parlez/deprecation.py

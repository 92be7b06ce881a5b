"""The inbox's live feed: each save of a conversation in this process is told to every open
console page, as server-sent events, so a new message shows without a reload, and a
customer handed over to a person (`handoff`) is announced to every agent online.

With several server processes (a Redis lock store), each change is published in Redis and
every process tells its own open pages: an inbox hears of a message whichever process saved
it (`SharedLiveFeed`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from parlez.events import ConversationPaused, Event, UserUttered
from parlez.stores.lock_store import SharedRedis

logger = logging.getLogger(__name__)

#: changes an inbox that reads slowly may fall behind by before it only gets the latest
BACKLOG = 100
#: seconds between the comments that keep an idle connection open through proxies
HEARTBEAT = 15.0


#: put in every queue when the server stops: the streams end, so shutdown need not wait
_CLOSED = ("closed", "")


def handed_over(events: Sequence[Event]) -> bool:
    """The bot paused the conversation while answering the customer (`action_handoff`): a
    customer now waits for a person. A person taking it over from the console pauses it
    too, but saves no customer message with the pause."""
    return any(isinstance(e, ConversationPaused) for e in events) and any(
        isinstance(e, UserUttered) for e in events
    )


class LiveFeed:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[tuple[str, str]]] = set()
        self._closed = False

    async def saved(self, sender_id: str, events: Sequence[Event]) -> None:
        """A conversation was saved: every open page hears of it, and of a handoff."""
        self._put(("change", sender_id))
        if handed_over(events):
            self._put(("handoff", sender_id))

    def presence(self, sender_id: str) -> None:
        """Someone opened, left, or started or stopped typing in a conversation."""
        self._put(("presence", sender_id))

    def start(self) -> None:
        """Begin hearing of other processes' changes (from a running event loop)."""

    def close(self) -> None:
        """End every stream (the server is stopping); the browsers reconnect elsewhere."""
        self._closed = True
        self._deliver(_CLOSED)

    async def aclose(self) -> None:
        """Let go of what the feed holds (after `close`)."""

    def _put(self, item: tuple[str, str]) -> None:
        self._deliver(item)

    def _deliver(self, item: tuple[str, str]) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()  # a slow reader keeps the newest changes
            queue.put_nowait(item)

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events for one open page: `change` or `handoff`, with the
        conversation's id."""
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(BACKLOG)
        self._queues.add(queue)
        try:
            yield ": connected\n\n"
            while not self._closed:
                try:
                    kind, sender_id = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if (kind, sender_id) == _CLOSED:
                    return
                yield f"event: {kind}\ndata: {json.dumps(sender_id)}\n\n"
        finally:
            self._queues.discard(queue)

    @property
    def listening(self) -> int:
        return len(self._queues)


#: seconds before listening again after Redis went away
RECONNECT_AFTER = 1.0


class SharedLiveFeed(LiveFeed):
    """The feed of every server process of the assistant, through Redis's publish/subscribe.
    While Redis is away each process tells its own pages (logged), as `LiveFeed` does."""

    def __init__(self, shared: SharedRedis) -> None:
        super().__init__()
        import redis.asyncio

        self.channel = f"{shared.key_prefix}parlez:console:live"
        # Publishing goes through the lock store's connections (it closes them).
        self._owns_client = shared.client is None
        self.redis: Any = (
            redis.asyncio.from_url(shared.url, socket_timeout=5)
            if self._owns_client
            else shared.client
        )
        #: a client of its own that waits for messages (no read timeout, unlike the lock
        #: store's)
        self.listener: Any = redis.asyncio.from_url(shared.url)
        self._listening: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._publishing: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._listening is None:
            self._listening = asyncio.get_running_loop().create_task(self._listen())

    async def subscribed(self) -> None:
        """Until this process hears the others."""
        await self._subscribed.wait()

    def _put(self, item: tuple[str, str]) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(item))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish(self, item: tuple[str, str]) -> None:
        from redis.exceptions import RedisError

        try:
            await self.redis.publish(self.channel, json.dumps(item))
        except (RedisError, OSError) as error:
            logger.warning("Redis did not answer (%s): only this process's inboxes hear", error)
            self._deliver(item)

    async def _listen(self) -> None:
        from redis.exceptions import RedisError

        while not self._closed:
            try:
                async with self.listener.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            kind, sender_id = json.loads(message["data"])
                            self._deliver((str(kind), str(sender_id)))
            except (RedisError, OSError) as error:
                self._subscribed.clear()
                logger.warning("the inboxes' shared feed is interrupted (%s); retrying", error)
                await asyncio.sleep(RECONNECT_AFTER)

    def close(self) -> None:
        super().close()
        if self._listening is not None:
            self._listening.cancel()

    async def aclose(self) -> None:
        """Close the connections (after `close`)."""
        if self._listening is not None:
            await asyncio.gather(self._listening, return_exceptions=True)
        if self._owns_client:
            await self.redis.aclose()
        await self.listener.aclose()

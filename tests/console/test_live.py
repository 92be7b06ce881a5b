"""The live feed tells every open inbox of each save, and ends when the server stops."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from parlez.console.live import BACKLOG, LiveFeed, SharedLiveFeed
from parlez.events import ConversationPaused, SlotSet, UserUttered
from parlez.stores.lock_store import SharedRedis
from parlez.stores.tracker_store import InMemoryTrackerStore
from parlez.tracker import DialogueStateTracker
from tests.services import Redis, free_port

pytestmark = pytest.mark.anyio


async def _connected(feed: LiveFeed, count: int) -> None:
    while feed.listening < count:
        await asyncio.sleep(0)


async def test_every_open_inbox_hears_of_a_saved_conversation() -> None:
    store = InMemoryTrackerStore()
    feed = LiveFeed()
    store.listeners.append(feed.saved)
    first, second = feed.stream(), feed.stream()
    assert await anext(first) == await anext(second) == ": connected\n\n"
    await store.save(DialogueStateTracker.from_events("visitor", [SlotSet("city", "Oslo")]))
    expected = 'event: change\ndata: "visitor"\n\n'
    assert await anext(first) == expected and await anext(second) == expected
    await first.aclose()
    await second.aclose()
    assert feed.listening == 0


async def test_a_slow_inbox_keeps_the_newest_changes() -> None:
    feed = LiveFeed()
    stream = feed.stream()
    await anext(stream)
    for n in range(BACKLOG + 5):
        await feed.saved(f"c{n}", [])
    assert await anext(stream) == 'event: change\ndata: "c5"\n\n'
    await stream.aclose()


async def test_the_streams_end_when_the_server_stops() -> None:
    feed = LiveFeed()
    stream = feed.stream()
    await anext(stream)
    reading = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    feed.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reading, 10)


async def test_a_customer_handed_over_is_announced_and_a_take_over_is_not() -> None:
    """`action_handoff` pauses the conversation in the customer's turn: agents online are
    told a customer waits. A person taking over pauses it without a customer's message."""
    store = InMemoryTrackerStore()
    feed = LiveFeed()
    store.listeners.append(feed.saved)
    stream = feed.stream()
    await anext(stream)
    asked = DialogueStateTracker.from_events(
        "visitor", [UserUttered("a person please"), ConversationPaused()]
    )
    await store.save(asked)
    assert await anext(stream) == 'event: change\ndata: "visitor"\n\n'
    assert await anext(stream) == 'event: handoff\ndata: "visitor"\n\n'
    taken = DialogueStateTracker.from_events("other", [UserUttered("hi")])
    await store.save(taken)
    taken.update(ConversationPaused())
    await store.save(taken)
    assert await anext(stream) == 'event: change\ndata: "other"\n\n'
    assert await anext(stream) == 'event: change\ndata: "other"\n\n'
    await stream.aclose()


async def test_an_inbox_hears_of_a_save_made_by_another_server_process(
    redis_server: Redis,
) -> None:
    """Two processes' feeds on one Redis: a page open on one hears what the other saved."""
    shared = SharedRedis(f"redis://127.0.0.1:{redis_server.port}/0", f"{uuid.uuid4().hex}:")
    here, there = SharedLiveFeed(shared), SharedLiveFeed(shared)
    for feed in (here, there):
        feed.start()
        await asyncio.wait_for(feed.subscribed(), 30)
    page = here.stream()
    await anext(page)
    store = InMemoryTrackerStore()
    store.listeners.append(there.saved)
    await store.save(DialogueStateTracker.from_events("visitor", [SlotSet("city", "Oslo")]))
    assert await asyncio.wait_for(anext(page), 30) == 'event: change\ndata: "visitor"\n\n'
    for feed in (here, there):
        feed.close()
        await feed.aclose()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(page), 10)


async def test_the_feed_publishes_through_the_lock_stores_connections(
    redis_server: Redis,
) -> None:
    """No pool of its own to publish: the lock store's, which the feed leaves open."""
    from parlez.endpoints import EndpointConfig
    from parlez.stores.lock_store import RedisLockStore

    locks = RedisLockStore(
        EndpointConfig(url="127.0.0.1", type="redis", kwargs={"port": redis_server.port})
    )
    assert locks.shared_redis is not None and locks.shared_redis.client is locks.redis
    feed = SharedLiveFeed(locks.shared_redis)
    assert feed.redis is locks.redis
    feed.start()
    await asyncio.wait_for(feed.subscribed(), 30)
    feed.close()
    await feed.aclose()
    assert await locks.redis.ping()  # still open for the locks
    await locks.close()


async def test_without_redis_a_process_still_tells_its_own_inboxes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = SharedLiveFeed(SharedRedis(f"redis://127.0.0.1:{free_port()}/0", ""))
    page = feed.stream()
    await anext(page)
    with caplog.at_level("WARNING"):
        await feed.saved("visitor", [])
        assert await asyncio.wait_for(anext(page), 30) == 'event: change\ndata: "visitor"\n\n'
    assert "only this process's inboxes hear" in caplog.text
    feed.close()
    await feed.aclose()

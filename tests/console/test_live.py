"""The live feed tells every open inbox of each save, and ends when the server stops."""

from __future__ import annotations

import asyncio

import pytest

from parlez.console.live import BACKLOG, LiveFeed
from parlez.events import ConversationPaused, SlotSet, UserUttered
from parlez.stores.tracker_store import InMemoryTrackerStore
from parlez.tracker import DialogueStateTracker

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

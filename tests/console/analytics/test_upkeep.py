"""The reports' rows kept up message by message are always those a count of every
conversation from scratch gives: as conversations go on (new sessions, a booking then its
cancellation), when two processes index in turns, and when a conversation is replaced."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from parlez.console.analytics.config import AnalyticsConfig, Outcome
from parlez.console.analytics.facts import AnalyticsRows
from parlez.console.database import ConsoleDatabase
from parlez.console.index import ConversationIndex
from parlez.console.models import analytics_conversations, analytics_counts
from parlez.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from parlez.stores.sql import SQLTrackerStore
from parlez.tracker import DialogueStateTracker
from tests.console.conftest import add

pytestmark = pytest.mark.anyio

CONFIG = AnalyticsConfig(
    timezone="UTC",
    outcomes=(
        Outcome("booked", "action_book", sets="booking_id"),
        Outcome("cancelled", "action_cancel", clears="booking_id"),
    ),
)
#: 2026-03-02 09:30 UTC
T = 1772443800.0


def said(text: str, at: float, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=at)


def booked(at: float) -> tuple[Event, ...]:
    """The customer asks, and the booking is made (its id set)."""
    return (
        said("book me", at, "book"),
        ActionExecuted("action_book", timestamp=at + 1),
        SlotSet("booking_id", "b-1", timestamp=at + 1),
    )


def cancelled(at: float) -> tuple[Event, ...]:
    return (
        said("cancel it", at, "cancel"),
        ActionExecuted("action_cancel", timestamp=at + 1),
        SlotSet("booking_id", None, timestamp=at + 1),
    )


async def stored(index: ConversationIndex) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with index.engine.connect() as connection:
        rows = [
            sorted(tuple(row) for row in await connection.execute(select(table)))
            for table in (analytics_conversations, analytics_counts)
        ]
    return rows[0], rows[1]


async def from_scratch(
    store: SQLTrackerStore,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows a count of every conversation from the start gives."""
    counted = AnalyticsRows()
    for tracker in (await store.retrieve_many(await store.keys())).values():
        counted.add(tracker, CONFIG)
    order = [
        [column.name for column in table.columns]
        for table in (analytics_conversations, analytics_counts)
    ]
    return (
        sorted(tuple(row[c] for c in order[0]) for row in counted.conversations),
        sorted(tuple(row[c] for c in order[1]) for row in counted.counts),
    )


async def test_rows_kept_up_message_by_message_are_a_count_from_scratch(
    store: SQLTrackerStore,
) -> None:
    index = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    await add(store, "c1", said("hello", T, "greet"), ActionExecuted("utter_greet", timestamp=T))
    await add(store, "c2", said("hi", T, "greet"))
    assert await index.catch_up_reports(None)
    steps: list[tuple[str, tuple[Event, ...]]] = [
        ("c1", (said("thanks", T + 60, "thank"), BotUttered("You're welcome!", timestamp=T + 60))),
        ("c1", booked(T + 120)),
        ("c1", cancelled(T + 180)),
        (
            "c1",
            (
                ActionExecuted("action_session_start", timestamp=T + 90000),
                SessionStarted(timestamp=T + 90000),
                said("back again", T + 90001, "greet"),
            ),
        ),
        ("c2", (said("thanks", T + 30, "thank"),)),
        ("c3", (said("new here", T + 500, "greet"),)),
    ]
    for sender, events in steps:
        await add(store, sender, *events)
        assert await index.catch_up_reports(None)
        assert await stored(index) == await from_scratch(store)


async def test_two_processes_indexing_in_turns_keep_the_same_rows(
    store: SQLTrackerStore,
) -> None:
    first = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    second = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    await add(store, "c1", said("hello", T, "greet"))
    assert await first.catch_up_reports(None)
    await add(store, "c1", *booked(T + 60))
    assert await second.catch_up_reports(None)
    await add(store, "c1", *cancelled(T + 120))
    assert await first.catch_up_reports(None)
    assert await stored(first) == await from_scratch(store)


async def test_a_replaced_conversation_loses_the_rows_it_no_longer_has(
    store: SQLTrackerStore,
) -> None:
    index = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    await add(store, "c1", *booked(T))
    assert await index.catch_up_reports(None)
    replaced = DialogueStateTracker("c1", [])
    replaced.update(said("just looking", T + 5, "browse"))
    await store.replace(replaced)
    assert await index.catch_up_reports(None)
    assert await stored(index) == await from_scratch(store)


async def test_the_reports_lag_the_inbox_until_enough_changes_wait(
    store: SQLTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inbox open on a quiet day follows every message; the reports' rows are rewritten
    once a batch of changes waits (or when something reads them), never per message."""
    monkeypatch.setattr("parlez.console.index.REPORTS_LAG", 6)
    index = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    await add(store, "c1", said("hello", T, "greet"))
    assert await index.catch_up_reports(None)
    await add(store, "c1", *booked(T + 60))  # three changes: less than the lag
    assert await index.catch_up(None)
    assert await stored(index) != await from_scratch(store)
    await add(store, "c1", *cancelled(T + 120))  # six waiting: the reports follow
    assert await index.catch_up(None)
    assert await stored(index) == await from_scratch(store)


async def test_a_second_process_notices_what_the_first_left_for_the_reports(
    store: SQLTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("parlez.console.index.REPORTS_LAG", 4)
    first = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    second = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    await add(store, "c1", said("hello", T, "greet"))
    assert await first.catch_up_reports(None)
    assert await second.catch_up_reports(None)
    await add(store, "c1", *booked(T + 60))
    assert await first.catch_up(None)  # three behind: the reports wait
    await add(store, "c1", *cancelled(T + 120))
    assert await second.catch_up(None)  # six behind, as this process reads the positions
    assert await stored(second) == await from_scratch(store)


async def test_a_conversation_read_before_its_latest_changes_is_read_again(
    store: SQLTrackerStore,
) -> None:
    """The reports reuse what the inbox read, never a conversation older than the changes
    they count: here another process followed the newest message."""
    first = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    second = ConversationIndex(store, ConsoleDatabase(store.engine), CONFIG)
    await add(store, "c1", said("hello", T, "greet"))
    assert await first.catch_up_reports(None)
    await add(store, "c1", *booked(T + 60))
    assert await first.catch_up(None)  # read with its booking; the reports wait
    await add(store, "c1", *cancelled(T + 120))
    assert await second.catch_up(None)
    assert await first.catch_up_reports(None)
    assert await stored(first) == await from_scratch(store)

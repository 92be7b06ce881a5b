"""Conversation summaries for the business's own analytics: each session published to the
event broker once it has been quiet for half an hour, with the reports' figures, its
outcomes and labels; once, and again only when it went on. On SQLite and PostgreSQL, and
through a real SQL event broker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from parlez.console.analytics.config import AnalyticsConfig, LabelRule, Outcome
from parlez.console.analytics.summaries import ConversationSummaries
from parlez.console.database import ConsoleDatabase
from parlez.console.index import ConversationIndex
from parlez.endpoints import EndpointConfig
from parlez.events import ActionExecuted, BotUttered, UserUttered
from parlez.stores.event_broker import SQLEventBroker, broker_table
from parlez.stores.sql import SQLTrackerStore
from tests.console.conftest import add
from tests.jobs.conftest import Clock

pytestmark = pytest.mark.anyio

T = 1772443800.0
MINUTE = 60.0
ANALYTICS = AnalyticsConfig(
    outcomes=(Outcome("lead", "action_save_lead"),),
    labels=(LabelRule("colouring", intents=("ask_colouring",)),),
)


def asked(at: float) -> tuple[Any, ...]:
    return (
        UserUttered(
            "how much is colouring?",
            {"name": "ask_colouring", "confidence": 0.9},
            timestamp=at,
            input_channel="webchat",
        ),
        BotUttered("From €60.", timestamp=at + 1),
        ActionExecuted("action_save_lead", timestamp=at + 2),
    )


async def summing_up(store: SQLTrackerStore, clock: Clock) -> tuple[ConversationSummaries, list]:
    database = ConsoleDatabase(store.engine)
    await database.upgrade()
    published: list[dict[str, Any]] = []

    async def announce(payload: dict[str, Any]) -> None:
        published.append(payload)

    index = ConversationIndex(store, database, ANALYTICS)
    return ConversationSummaries(index, announce, clock=clock), published


async def test_a_quiet_session_is_summed_up_once_and_again_when_it_goes_on(
    store: SQLTrackerStore,
) -> None:
    await add(store, "visitor-7", *asked(T))
    clock = Clock(T + 10 * MINUTE)
    summaries, published = await summing_up(store, clock)
    assert await summaries.publish_due() == 0  # still going on, perhaps
    clock.now = T + 40 * MINUTE
    assert await summaries.publish_due() == 1
    [summary] = published
    assert summary["event"] == "conversation_summary" and summary["sender_id"] == "visitor-7"
    assert (summary["channel"], summary["incoming"], summary["outgoing"]) == ("webchat", 1, 1)
    assert summary["outcomes"] == ["lead"] and summary["labels"] == ["colouring"]
    assert (
        summary["intents"] == ["ask_colouring"] and summary["timestamp"] == T + 1
    )  # its last message
    assert summary["handed_over"] is False and summary["resolved"] is True
    assert await summaries.publish_due() == 0  # once
    await add(store, "visitor-7", *asked(T + 50 * MINUTE))  # the same session goes on
    clock.now = T + 90 * MINUTE
    assert await summaries.publish_due() == 1
    assert published[-1]["incoming"] == 2 and published[-1]["last_at"] == T + 50 * MINUTE + 1


async def test_old_history_is_not_published_at_a_first_start(store: SQLTrackerStore) -> None:
    await add(store, "last-year", *asked(T))
    summaries, published = await summing_up(store, Clock(T + 30 * 86400))
    assert await summaries.publish_due() == 0 and published == []


async def test_summaries_reach_a_real_event_broker(tmp_path: Path) -> None:
    store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}")
    broker = SQLEventBroker(
        EndpointConfig(type="SQL", kwargs={"dialect": "sqlite", "db": "broker.db"}), tmp_path
    )
    try:
        await add(store, "visitor-7", *asked(T))
        store.event_broker = broker  # after the conversation: only the summary is looked for
        database = ConsoleDatabase(store.engine)
        await database.upgrade()
        index = ConversationIndex(store, database, ANALYTICS)
        summaries = ConversationSummaries(index, store.announce, clock=Clock(T + 3600))
        assert await summaries.publish_due() == 1
        async with broker.engine.connect() as connection:
            rows = [
                json.loads(r.data) for r in await connection.execute(select(broker_table.c.data))
            ]
        assert [r["event"] for r in rows] == ["conversation_summary"]
        assert rows[0]["outcomes"] == ["lead"]
    finally:
        await store.close()
        await broker.close()

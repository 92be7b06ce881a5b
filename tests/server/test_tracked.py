"""What the business's pages report (`Conversations.track`): kept once in the console's
database, and a conversion (not a visit) published to the event broker for the business's
own analytics, waiting while the broker is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from parlez.console.database import ConsoleDatabase
from parlez.endpoints import EndpointConfig
from parlez.server.state import ServedConversations, ServerState
from parlez.stores.event_broker import SQLEventBroker, broker_table
from parlez.stores.sql import SQLTrackerStore

pytestmark = pytest.mark.anyio


async def test_a_conversion_is_kept_once_and_published_and_a_visit_only_kept(
    tmp_path: Path,
) -> None:
    store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}")
    broker = SQLEventBroker(
        EndpointConfig(type="SQL", kwargs={"dialect": "sqlite", "db": "broker.db"}), tmp_path
    )
    store.event_broker = broker
    state = ServerState(agent=None, tracker_store=store, console=ConsoleDatabase(store.engine))
    conversations = ServedConversations(state)
    assert await conversations.track("s1", "visit")
    assert await conversations.track("s1", "purchase", 120.0, "EUR", "A-1")
    assert not await conversations.track("s1", "purchase", 120.0, "EUR", "A-1")
    async with broker.engine.connect() as connection:
        rows = (await connection.execute(select(broker_table.c.data))).all()
    [published] = [json.loads(row.data) for row in rows]
    assert published["event"] == "conversion" and published["sender_id"] == "s1"
    assert (published["name"], published["value"], published["currency"]) == (
        "purchase",
        120.0,
        "EUR",
    )
    await store.close()
    await broker.close()


async def test_without_a_console_database_nothing_is_kept() -> None:
    conversations = ServedConversations(ServerState(agent=None))
    assert not await conversations.track("s1", "purchase", 1.0, "EUR")

"""The SQL tracker store keeps every event once, in Rasa's table, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from parlez.endpoints import EndpointConfig
from parlez.events import ActionExecuted, SlotSet, UserUttered
from parlez.slots import TextSlot
from parlez.stores.sql import SQLTrackerStore, StoreUnavailableError, database_url
from parlez.stores.tracker_store import InMemoryTrackerStore, TrackerStore
from parlez.tracker import DialogueStateTracker
from tests.services import Postgres

pytestmark = pytest.mark.anyio


SLOTS = [TextSlot("city", mappings=[])]


def database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory"
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    server: Postgres = request.getfixturevalue("postgres")
    db = f"t{uuid.uuid4().hex[:10]}"
    server.psql(f"CREATE DATABASE {db}")
    return server.url(db)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database(request.param, request, tmp_path)


def make_store(url: str) -> TrackerStore:
    return InMemoryTrackerStore(SLOTS) if url == "memory" else SQLTrackerStore(url, SLOTS)


def conversation(sender: str = "ana") -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, SLOTS)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("I am in Paris", {"name": "inform", "confidence": 0.9}))
    tracker.update(SlotSet("city", "Paris"))
    tracker.update(ActionExecuted("utter_city"))
    return tracker


async def test_a_saved_conversation_reads_back_with_its_state(store_url: str) -> None:
    store = make_store(store_url)
    await store.save(conversation())
    again = await store.retrieve("ana")
    assert again is not None
    assert again.get_slot("city") == "Paris"
    assert [e.type_name for e in again.events] == ["action", "user", "slot", "action"]
    assert await store.retrieve("nobody") is None
    await store.close()


async def test_saving_again_appends_only_the_new_events(store_url: str) -> None:
    store = make_store(store_url)
    tracker = conversation()
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing written
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    again = await store.retrieve("ana")
    assert again is not None
    assert [e.type_name for e in again.events] == ["action", "user", "slot", "action", "action"]
    await store.close()


async def test_two_stores_on_one_database_see_each_others_events(sql_url: str) -> None:
    first, second = make_store(sql_url), make_store(sql_url)
    await first.save(conversation("ana"))
    tracker = await second.retrieve("ana")
    assert tracker is not None
    tracker.update(ActionExecuted("action_listen"))
    await second.save(tracker)
    seen = await first.retrieve("ana")
    assert seen is not None and len(seen.events) == 5
    assert sorted(await first.keys()) == ["ana"]
    await first.close()
    await second.close()


async def test_replace_sets_exactly_the_given_events(store_url: str) -> None:
    store = make_store(store_url)
    await store.save(conversation())
    fresh = DialogueStateTracker("ana", SLOTS)
    fresh.update(SlotSet("city", "Rome"))
    await store.replace(fresh)
    again = await store.retrieve("ana")
    assert again is not None
    assert [e.to_dict()["event"] for e in again.events] == ["slot"]
    assert again.get_slot("city") == "Rome"
    await store.close()


@pytest.mark.parametrize("made_by", ["parlez", "an older parlez, or Rasa"])
async def test_a_replaced_conversation_is_read_by_what_follows_the_changes(
    tmp_path: Path, made_by: str
) -> None:
    """SQLite gives a deleted highest id to the next row unless the table says
    AUTOINCREMENT (tables made by Rasa or before it did not): a conversation replaced
    while its events are the newest still gets ids after every id a reader has seen."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    store = SQLTrackerStore(url, SLOTS)
    if made_by != "parlez":
        async with store.engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) "
                    "NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, "
                    "intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
                )
            )
    await store.save(conversation())
    seen = (await store.changes(0, 100) or [])[-1].position
    fresh = DialogueStateTracker("ana", SLOTS)
    fresh.update(SlotSet("city", "Rome"))
    await store.replace(fresh)
    after = await store.changes(seen, 100)
    assert after is not None and [c.event["event"] for c in after] == ["slot"]
    await store.close()


async def test_rows_follow_rasas_events_table(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    store = SQLTrackerStore(url, SLOTS)
    await store.save(conversation())
    async with store.engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT sender_id, type_name, intent_name, action_name, data FROM events")
            )
        ).all()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("ana", "action", None, "action_listen"),
        ("ana", "user", "inform", None),
        ("ana", "slot", None, None),
        ("ana", "action", None, "utter_city"),
    ]
    assert json.loads(rows[2][4])["value"] == "Paris"
    await store.close()


def test_the_url_follows_rasas_keys(tmp_path: Path) -> None:
    sqlite = database_url(EndpointConfig(type="SQL", kwargs={"db": "c.db"}), tmp_path)
    assert sqlite.drivername == "sqlite+aiosqlite"
    assert sqlite.database == str(tmp_path / "c.db")
    config: dict[str, Any] = {
        "dialect": "postgresql",
        "db": "rasa",
        "username": "bot",
        "password": "s3cret",
        "port": 5433,
    }
    postgres = database_url(EndpointConfig(url="db.internal", type="SQL", kwargs=config))
    assert postgres.render_as_string(hide_password=False) == (
        "postgresql+asyncpg://bot:s3cret@db.internal:5433/rasa"
    )


async def test_a_database_that_goes_away_and_comes_back_loses_nothing(
    postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parlez.stores import engine

    # A PostgreSQL stopped at once recovers as it starts: on a loaded machine that outlasted
    # the 3.6 s the retries give it. The retries must outlast the restart, whatever it takes.
    monkeypatch.setattr(engine, "RETRY_DELAYS", (0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0))
    db = f"t{uuid.uuid4().hex[:10]}"
    postgres.psql(f"CREATE DATABASE {db}")
    store = SQLTrackerStore(postgres.url(db), SLOTS)
    tracker = conversation()
    await store.save(tracker)
    postgres.stop()
    # The server comes back while the save is retrying.
    restart = threading.Timer(0.5, postgres.start)
    restart.start()
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    restart.join()
    again = await store.retrieve("ana")
    assert again is not None and len(again.events) == 5
    await store.close()


async def test_a_database_that_stays_away_is_a_clear_error(tmp_path: Path) -> None:
    from parlez.stores import engine

    store = SQLTrackerStore(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none", SLOTS
    )  # nothing listens on port 1
    original = engine.RETRY_DELAYS
    engine.RETRY_DELAYS = (0.01,)
    try:
        with pytest.raises(StoreUnavailableError, match="did not answer"):
            await store.save(conversation())
    finally:
        engine.RETRY_DELAYS = original
        await store.close()


async def test_many_conversations_saved_at_once_keep_their_own_events(store_url: str) -> None:
    store = make_store(store_url)
    trackers = [conversation(f"user{i}") for i in range(20)]
    await asyncio.gather(*(store.save(t) for t in trackers))
    for i in range(20):
        again = await store.retrieve(f"user{i}")
        assert again is not None and len(again.events) == 4
    await store.close()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database("postgresql", request, tmp_path)


async def test_postgresql_refusing_a_value_is_not_retried_and_keeps_sql_out_of_the_error(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from parlez.stores.sql import StoreDataError

    store = SQLTrackerStore(postgres_url, SLOTS)
    # A NUL in an intent name (the data column escapes it; this column cannot hold it).
    tracker = DialogueStateTracker("ana", SLOTS)
    tracker.update(UserUttered("hi", {"name": "gre\0et", "confidence": 1.0}))
    with caplog.at_level("WARNING"), pytest.raises(StoreDataError) as caught:
        await store.save(tracker)
    assert "retrying" not in caplog.text  # it cannot succeed, so it is tried once
    assert "INSERT" not in caught.value.message and "gre" not in caught.value.message
    assert "INSERT" in caplog.text  # the log has what an operator needs
    # The store itself is fine: the next conversation is saved.
    await store.save(conversation("bo"))
    assert await store.retrieve("bo") is not None
    await store.close()


async def test_a_stored_row_that_cannot_be_read_is_skipped_and_new_events_still_saved(
    sql_url: str,
) -> None:
    store = SQLTrackerStore(sql_url, SLOTS)
    await store.save(conversation())
    async with store.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO events (sender_id, type_name, timestamp, data) "
                "VALUES ('ana', 'active_loop', 1, :data)"
            ),
            {"data": json.dumps({"event": "active_loop", "name": ["x"]})},
        )
    tracker = await store.retrieve("ana")
    assert tracker is not None and len(tracker.events) == 4
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    again = await store.retrieve("ana")
    assert again is not None and [e.type_name for e in again.events][-1] == "action"
    assert len(again.events) == 5
    await store.close()


async def test_recent_lists_the_newest_activity_first_a_page_at_a_time(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parlez.stores import sql

    monkeypatch.setattr(sql, "RECENT_CHUNK", 3)  # several reads backwards, as on a big table
    store = make_store(store_url)
    for n, sender in enumerate(["old", "middle", "new"]):
        tracker = DialogueStateTracker(sender, SLOTS)
        for k in range(4):
            tracker.update(UserUttered(f"message {k}", timestamp=1000.0 + n * 100 + k))
        await store.save(tracker)
    again = await store.retrieve("old")
    assert again is not None
    again.update(UserUttered("back again", timestamp=2000.0))
    await store.save(again)
    assert await store.recent(2) == [("old", 2000.0), ("new", 1203.0)]
    assert [sender for sender, _ in await store.recent(10, before=1203.0)] == ["middle"]
    await store.close()


async def test_many_conversations_are_read_as_each_would_be(store_url: str) -> None:
    store = make_store(store_url)
    for sender in ("ana", "ben"):
        await store.save(conversation(sender))
    found = await store.retrieve_many(["ana", "ben", "nobody"])
    assert sorted(found) == ["ana", "ben"]
    alone = await store.retrieve("ben")
    assert alone is not None and [e.to_dict() for e in found["ben"].events] == [
        e.to_dict() for e in alone.events
    ]
    await store.close()

"""SQL tracker store: every conversation event as one row of Rasa's `events` table.

SQLAlchemy 2 async: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production. Rows
are only ever appended, so a crash can lose nothing that was saved, and a second server
process sees exactly what the first one wrote. A database that goes away is retried with
back-off before the save fails; the caller then answers with an error, never a lost event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column as SAColumn
from sqlalchemy import Float, Integer, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.engine import URL

from parlez.endpoints import EndpointConfig
from parlez.events import (
    Event,
    ReminderCancelled,
    ReminderScheduled,
    UserUttered,
    stored_events,
)
from parlez.registry import tracker_stores
from parlez.slots import Slot
from parlez.stores.engine import database_url, make_engine, with_retries
from parlez.stores.errors import StoreConfigError as StoreConfigError  # re-exported
from parlez.stores.errors import StoreDataError as StoreDataError
from parlez.stores.errors import StoreUnavailableError as StoreUnavailableError
from parlez.stores.tracker_store import Change, TrackerStore
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

#: rows read at a time, newest first, to find the conversations with recent activity
RECENT_CHUNK = 2000

T = TypeVar("T")

metadata = MetaData()

#: Rasa's layout, so dashboards and SQL written against Rasa's store work unchanged.
events_table = Table(
    "events",
    metadata,
    SAColumn("id", Integer, primary_key=True, autoincrement=True),
    SAColumn("sender_id", String(255), nullable=False, index=True),
    SAColumn("type_name", String(255), nullable=False),
    SAColumn("timestamp", Float),
    SAColumn("intent_name", String(255)),
    SAColumn("action_name", String(255)),
    SAColumn("data", Text),
    # Ids only ever grow, on SQLite too (it reuses the highest ones once deleted): read
    # models follow the events by id (`changes`), and a reused id would never be read.
    sqlite_autoincrement=True,
)


#: events the event broker did not take (it was down), sent before the next ones
unsent_table = Table(
    "event_broker_unsent",
    metadata,
    SAColumn("id", Integer, primary_key=True, autoincrement=True),
    SAColumn("data", Text, nullable=False),
    sqlite_autoincrement=True,
)

#: waiting events sent at a time
UNSENT_BATCH = 500

#: reminders set by actions and not yet fired, written with the events that set them: any
#: server process of the assistant fires each, one process alone (parlez/core/reminders.py)
reminders_table = Table(
    "reminders_pending",
    metadata,
    SAColumn("id", Integer, primary_key=True, autoincrement=True),
    SAColumn("sender_id", String(255), nullable=False, index=True),
    SAColumn("name", String(255), nullable=False),
    SAColumn("fire_at", Float, nullable=False, index=True),
    SAColumn("data", Text, nullable=False),
    sqlite_autoincrement=True,
)
#: due reminders taken at a time
REMINDER_BATCH = 100


async def _keep_reminders(connection: Any, sender_id: str, new: Sequence[Event]) -> bool:
    """Write what `new` does to the conversation's pending reminders (in the save's
    transaction): one set is kept (replacing a pending one of its name), one cancelled is
    dropped. Whether a reminder was kept."""
    kept = False
    mine = reminders_table.c.sender_id == sender_id
    for event in new:
        if isinstance(event, ReminderScheduled):
            name = str(event.name)
            await connection.execute(
                delete(reminders_table).where(mine, reminders_table.c.name == name)
            )
            await connection.execute(
                reminders_table.insert(),
                {
                    "sender_id": sender_id,
                    "name": name,
                    "fire_at": event.trigger_date_time.timestamp(),
                    "data": json.dumps(event.to_dict(), ensure_ascii=False),
                },
            )
            kept = True
        elif isinstance(event, ReminderCancelled):
            rows = await connection.execute(
                select(reminders_table.c.id, reminders_table.c.data).where(mine)
            )
            cancelled = [
                row.id
                for row in rows
                if isinstance(reminder := _reminder(row.data), ReminderScheduled)
                and event.cancels(reminder)
            ]
            if cancelled:
                await connection.execute(
                    delete(reminders_table).where(reminders_table.c.id.in_(cancelled))
                )
    return kept


def _reminder(data: str) -> ReminderScheduled | None:
    try:
        event = Event.from_dict(json.loads(data))
    except (ValueError, TypeError) as error:
        logger.error("a kept reminder cannot be read, and is dropped: %s", error)
        return None
    return event if isinstance(event, ReminderScheduled) else None


def _broker_json(sender_id: str, event: Event) -> str:
    return json.dumps({"sender_id": sender_id, **event.to_dict()}, ensure_ascii=False)


def event_row(sender_id: str, event: Event) -> dict[str, Any]:
    data = event.to_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": event.timestamp,
        "intent_name": event.intent_name if isinstance(event, UserUttered) else None,
        "action_name": data.get("name") if data.get("event") == "action" else None,
        "data": json.dumps(data, ensure_ascii=False),
    }


@tracker_stores.register("sql")
class SQLTrackerStore(TrackerStore):
    def __init__(self, url: URL | str, slots: Iterable[Slot] = ()) -> None:
        super().__init__(slots)
        self.url = url
        self.engine = make_engine(url if isinstance(url, URL) else _parse(url))
        self._ready: asyncio.Lock | None = None
        self._created = False

    @classmethod
    def from_endpoint(
        cls, config: EndpointConfig, slots: Iterable[Slot] = (), project: Path | None = None
    ) -> SQLTrackerStore:
        return cls(database_url(config, project), slots)

    async def _create_table(self) -> None:
        if self._created:
            return
        self._ready = self._ready or asyncio.Lock()
        async with self._ready:
            if self._created:
                return

            async def create() -> None:
                async with self.engine.begin() as connection:
                    await connection.run_sync(metadata.create_all)

            await with_retries("create the events table", create)
            self._created = True

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        await self._create_table()

        async def read() -> list[str]:
            async with self.engine.connect() as connection:
                result = await connection.execute(
                    select(events_table.c.data)
                    .where(events_table.c.sender_id == sender_id)
                    .order_by(events_table.c.id)
                )
                return [row[0] for row in result]

        rows = await with_retries("read a conversation", read)
        if not rows:
            return None
        tracker = DialogueStateTracker.from_events(
            sender_id, stored_events(map(_row_data, rows), sender_id), self.slots
        )
        # What the tracker holds of the rows: new events are those after it.
        tracker.persisted_events = len(tracker.events)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._create_table()

        async def append() -> tuple[list[Event], bool]:
            async with self.engine.begin() as connection:
                stored = tracker.persisted_events
                if stored is None:  # not read from this store: ask how much it holds
                    stored = await connection.scalar(
                        select(func.count())
                        .select_from(events_table)
                        .where(events_table.c.sender_id == tracker.sender_id)
                    )
                new = tracker.events[int(stored or 0) :]
                if new:
                    await connection.execute(
                        events_table.insert(), [event_row(tracker.sender_id, e) for e in new]
                    )
                kept = await _keep_reminders(connection, tracker.sender_id, new)
                if new and self.event_broker is not None:
                    # In the same transaction: events saved are broadcast even if this
                    # process dies before it publishes them (another one sends them).
                    await connection.execute(
                        unsent_table.insert(),
                        [{"data": _broker_json(tracker.sender_id, e)} for e in new],
                    )
                return new, kept

        new, kept = await with_retries("save a conversation", append)
        # Only after the commit: a failed save leaves the count as it was, and is retried.
        tracker.persisted_events = len(tracker.events)
        if kept and self.on_reminder_kept is not None:
            self.on_reminder_kept()
        await self.publish(tracker.sender_id, new)

    async def _broadcast(self, sender_id: str, events: Sequence[Event]) -> None:
        # They were written to the waiting table with the events (in `save`'s transaction):
        # send what waits, nothing built again.
        self._unsent_here = True
        await self._send_waiting()

    async def keep_unsent(self, payloads: list[dict[str, Any]]) -> None:
        """In the database, so that another process sends them if this one stops first."""

        async def keep() -> None:
            async with self.engine.begin() as connection:
                rows = [{"data": json.dumps(p, ensure_ascii=False)} for p in payloads]
                await connection.execute(unsent_table.insert(), rows)

        try:
            await with_retries("keep events for the event broker", keep)
        except Exception:
            logger.exception("events the broker did not take are kept in this process only")
            await super().keep_unsent(payloads)
            return
        self._unsent_here = True

    async def send_unsent(self, publish: Callable[[dict[str, Any]], Awaitable[None]]) -> bool:
        if not await super().send_unsent(publish):
            return False
        await self._create_table()
        while True:
            async with self.engine.begin() as connection:
                query = select(unsent_table.c.id, unsent_table.c.data).order_by(unsent_table.c.id)
                if connection.dialect.name == "postgresql":
                    # two processes sending at once take different rows
                    query = query.with_for_update(skip_locked=True)
                rows = (await connection.execute(query.limit(UNSENT_BATCH))).all()
                if not rows:
                    return True
                sent: list[int] = []
                try:
                    for row in rows:
                        await publish(json.loads(row.data))
                        sent.append(row.id)
                except Exception:
                    return False
                finally:
                    if sent:
                        await connection.execute(
                            unsent_table.delete().where(unsent_table.c.id.in_(sent))
                        )
            if len(rows) < UNSENT_BATCH:
                return True

    keeps_reminders = True

    async def claim_due_reminders(self, now: float) -> list[tuple[str, ReminderScheduled]]:
        await self._create_table()

        async def claim() -> list[tuple[str, ReminderScheduled]]:
            async with self.engine.begin() as connection:
                query = (
                    select(reminders_table.c.id)
                    .where(reminders_table.c.fire_at <= now)
                    .order_by(reminders_table.c.fire_at)
                    .limit(REMINDER_BATCH)
                )
                if connection.dialect.name == "postgresql":
                    # two processes at once take different rows
                    query = query.with_for_update(skip_locked=True)
                ids = [row.id for row in await connection.execute(query)]
                if not ids:
                    return []
                # What this process deleted is its own to fire: a row another process took
                # first is not returned (SQLite serialises the two deletes).
                taken = await connection.execute(
                    delete(reminders_table)
                    .where(reminders_table.c.id.in_(ids))
                    .returning(reminders_table.c.sender_id, reminders_table.c.data)
                )
                found = [(row.sender_id, _reminder(row.data)) for row in taken]
                return [(sender, event) for sender, event in found if event is not None]

        return await with_retries("take the due reminders", claim)

    async def next_reminder_at(self) -> float | None:
        await self._create_table()

        async def read() -> float | None:
            async with self.engine.connect() as connection:
                found = await connection.scalar(select(func.min(reminders_table.c.fire_at)))
                return float(found) if found is not None else None

        return await with_retries("read when the next reminder is due", read)

    async def replace(self, tracker: DialogueStateTracker) -> None:
        """Set a conversation to exactly these events (`PUT .../tracker`), in one transaction."""
        await self._create_table()

        async def rewrite() -> None:
            async with self.engine.begin() as connection:
                # The new events first, then the old ones go: the new ones are given ids
                # above every existing one even where the store reuses deleted ids (a
                # SQLite table made before AUTOINCREMENT), so read models see them.
                mine = events_table.c.sender_id == tracker.sender_id
                last = await connection.scalar(select(func.max(events_table.c.id)).where(mine))
                if tracker.events:
                    await connection.execute(
                        events_table.insert(),
                        [event_row(tracker.sender_id, e) for e in tracker.events],
                    )
                if last is not None:
                    await connection.execute(
                        delete(events_table).where(mine, events_table.c.id <= last)
                    )
                # The pending reminders are the new events' (an empty conversation, a
                # forgotten customer, has none); those due already have fired.
                await connection.execute(
                    delete(reminders_table).where(reminders_table.c.sender_id == tracker.sender_id)
                )
                now = time.time()
                await _keep_reminders(
                    connection,
                    tracker.sender_id,
                    [
                        e
                        for e in tracker.events
                        if not isinstance(e, ReminderScheduled)
                        or e.trigger_date_time.timestamp() > now
                    ],
                )

        await with_retries("replace a conversation", rewrite)
        tracker.persisted_events = len(tracker.events)

    async def keys(self) -> list[str]:
        await self._create_table()

        async def read() -> list[str]:
            async with self.engine.connect() as connection:
                result = await connection.execute(select(events_table.c.sender_id).distinct())
                return [row[0] for row in result]

        return await with_retries("list conversations", read)

    async def recent(self, limit: int, before: float | None = None) -> list[tuple[str, float]]:
        # Rows are only appended, so the newest activity is at the highest ids: reading the
        # table backwards until `limit` conversations have shown up touches a few thousand
        # rows, where grouping all of them would read every conversation ever held. A
        # conversation's first row met is its latest; a later page (`before`) skips those
        # whose latest activity is not older.
        await self._create_table()
        seen: set[str] = set()
        found: list[tuple[str, float]] = []
        below: int | None = None
        while len(found) < limit:
            query = select(events_table.c.id, events_table.c.sender_id, events_table.c.timestamp)
            if below is not None:
                query = query.where(events_table.c.id < below)
            query = query.order_by(events_table.c.id.desc()).limit(RECENT_CHUNK)

            async def read(query: Any = query) -> list[Any]:
                async with self.engine.connect() as connection:
                    return list(await connection.execute(query))

            rows = await with_retries("list recent conversations", read)
            for row in rows:
                if row.sender_id in seen:
                    continue
                seen.add(row.sender_id)
                latest = float(row.timestamp or 0)
                if (before is None or latest < before) and len(found) < limit:
                    found.append((row.sender_id, latest))
            if len(rows) < RECENT_CHUNK:
                break
            below = rows[-1].id
        return sorted(found, key=lambda item: (-item[1], item[0]))

    async def retrieve_many(self, sender_ids: Sequence[str]) -> dict[str, DialogueStateTracker]:
        await self._create_table()
        if not sender_ids:
            return {}
        query = (
            select(events_table.c.sender_id, events_table.c.data)
            .where(events_table.c.sender_id.in_(list(sender_ids)))
            .order_by(events_table.c.id)
        )

        async def read() -> list[Any]:
            async with self.engine.connect() as connection:
                return list(await connection.execute(query))

        rows: dict[str, list[str]] = {}
        for row in await with_retries("read conversations", read):
            rows.setdefault(row.sender_id, []).append(row.data)
        trackers = {}
        for sender_id, data in rows.items():
            tracker = DialogueStateTracker.from_events(
                sender_id, stored_events(map(_row_data, data), sender_id), self.slots
            )
            tracker.persisted_events = len(tracker.events)
            trackers[sender_id] = tracker
        return trackers

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(select(1))

    @property
    def history(self) -> str:
        # Positions are the table's row ids: the same in every process, across restarts.
        return "sql:events"

    @property
    def forgotten(self) -> int:
        return 0  # the table is the log of changes: nothing is forgotten

    def _remember(self, sender_id: str, events: Sequence[Event]) -> None:
        pass

    async def changes(self, after: int, limit: int) -> list[Change] | None:
        await self._create_table()
        query = (
            select(events_table.c.id, events_table.c.sender_id, events_table.c.data)
            .where(events_table.c.id > after)
            .order_by(events_table.c.id)
            .limit(limit)
        )

        async def read() -> list[Any]:
            async with self.engine.connect() as connection:
                return list(await connection.execute(query))

        found = []
        for row in await with_retries("read saved events", read):
            data = _row_data(row.data)
            if isinstance(data, dict):  # what cannot be read is skipped, as by `retrieve`
                found.append(Change(row.id, row.sender_id, data))
        return found

    async def close(self) -> None:
        await super().close()
        await self.engine.dispose()


def _row_data(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text  # skipped, with the rest of what cannot be read, by stored_events


def _parse(url: str) -> URL:
    from sqlalchemy.engine import make_url

    return make_url(url)

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
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column as SAColumn
from sqlalchemy import Float, Integer, MetaData, String, Table, Text, delete, event, func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from parlez.endpoints import EndpointConfig
from parlez.events import Event, UserUttered, stored_events
from parlez.exceptions import ParlezError
from parlez.slots import Slot
from parlez.stores.tracker_store import TrackerStore
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: SQLAlchemy's async driver for each dialect Rasa users name in endpoints.yml.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "postgres": "asyncpg"}
RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0)


class StoreConfigError(ParlezError):
    code = "P400"


class StoreUnavailableError(ParlezError):
    code = "P401"


class StoreDataError(ParlezError):
    """The database refused what it was given: trying again cannot help."""

    code = "P402"


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
)


def database_url(config: EndpointConfig, project: Path | None = None) -> URL:
    """The async SQLAlchemy URL for Rasa's SQL keys (dialect, host, port, db, username, ...)."""
    options = config.kwargs
    dialect = str(options.get("dialect") or "sqlite").lower()
    base = dialect.split("+", 1)[0]
    if base not in ASYNC_DRIVERS:
        raise StoreConfigError(
            f"the SQL dialect '{dialect}' is not supported",
            hint="use 'sqlite' (a local file) or 'postgresql'",
        )
    driver = f"{'postgresql' if base == 'postgres' else base}+{ASYNC_DRIVERS[base]}"
    db = str(options.get("db") or ("rasa.db" if base == "sqlite" else "rasa"))
    if base == "sqlite":
        if db != ":memory:" and project is not None and not Path(db).is_absolute():
            db = str(project / db)
        return URL.create(driver, database=db)
    host = config.url or options.get("host") or "localhost"
    port = options.get("port")
    return URL.create(
        driver,
        username=options.get("username"),
        password=None if options.get("password") is None else str(options.get("password")),
        host=str(host),
        port=int(port) if port else None,
        database=db,
        query={str(k): str(v) for k, v in (options.get("query") or {}).items()},
    )


def make_engine(url: URL) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        # One file, many coroutines: wait for a writer instead of failing with "locked".
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    # Write-ahead log: readers never wait for the writer, and a commit needs no fsync of
    # the main file. With synchronous=NORMAL a committed event survives the process being
    # killed; only a power cut can lose the last few commits (use PostgreSQL where that
    # matters). A commit goes from ~6 ms to well under 1 ms.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: SQLSTATE classes of failures that can pass: the connection, a deadlock, resources, the
#: server shutting down or starting up. Anything else (bad data, a constraint) fails again.
RETRYABLE_SQLSTATES = ("08", "40", "53", "57", "58")


def retryable(error: Exception) -> bool:
    """Whether a database failure may pass if tried again (the server is away or busy), as
    opposed to one that the same statement will always meet (a value the column refuses)."""
    if not isinstance(error, DBAPIError):
        return True  # OSError: no connection at all
    if error.connection_invalidated:
        return True
    orig = error.orig
    cause = orig.__cause__ if orig is not None else None
    if isinstance(orig, ValueError) or isinstance(cause, ValueError):
        return False  # the driver cannot send the value (asyncpg's DataError)
    state = getattr(orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    if isinstance(state, str) and state:
        return state[:2] in RETRYABLE_SQLSTATES
    return not isinstance(error, IntegrityError | ProgrammingError | DataError)


async def with_retries(what: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a database call, retrying while the server is away; raise once it stays away.

    What the database says goes to the log only: it holds the statement and its values.
    """
    for delay in (*RETRY_DELAYS, None):
        try:
            return await attempt()
        except (OperationalError, InterfaceError, DBAPIError, OSError) as error:
            if not retryable(error):
                logger.error("the database refused to %s: %s", what, error)
                raise StoreDataError(
                    f"the database refused to {what} ({type(error).__name__}); "
                    "the server's log has the details",
                    hint="a value the database cannot hold, such as a NUL character",
                ) from error
            if delay is None:
                logger.error("the database did not answer while trying to %s: %s", what, error)
                raise StoreUnavailableError(
                    f"the database did not answer while trying to {what}",
                    hint="check that the database server is running and reachable",
                ) from error
            logger.warning(
                "the database failed to %s (%s); retrying in %.1f s",
                what,
                type(error).__name__,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


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

        async def append() -> list[Event]:
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
                return new

        new = await with_retries("save a conversation", append)
        # Only after the commit: a failed save leaves the count as it was, and is retried.
        tracker.persisted_events = len(tracker.events)
        await self.publish(tracker.sender_id, new)

    async def replace(self, tracker: DialogueStateTracker) -> None:
        """Set a conversation to exactly these events (`PUT .../tracker`), in one transaction."""
        await self._create_table()

        async def rewrite() -> None:
            async with self.engine.begin() as connection:
                await connection.execute(
                    delete(events_table).where(events_table.c.sender_id == tracker.sender_id)
                )
                if tracker.events:
                    await connection.execute(
                        events_table.insert(),
                        [event_row(tracker.sender_id, e) for e in tracker.events],
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

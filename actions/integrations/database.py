"""The assistant's database: the project's own (the conversations' SQL database, or
console.db), so that every `parlez run` replica and action server of a business shares its
leads, calendar and outbox.

The actions call their integrations from worker threads (CalDAV, SMTP and the CRM's client
block too), so this is a blocking SQLAlchemy engine: pysqlite, or psycopg for PostgreSQL.
Its tables are brought up to date by Alembic the first time a process opens it.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from actions.integrations.tables import appointments, leads, outbox
from parlez.database import project_database_url, transaction_lock
from parlez.extras import optional

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent.parent / "migrations"

_engines: dict[str, Engine] = {}
_opening = threading.Lock()


def database(project: Path) -> Engine:
    """The engine of `project`'s database, its tables migrated, the files of earlier
    versions (leads.db, calendar.db, outbox.db) imported once."""
    return database_at(
        project_database_url(project, sync=True), lambda engine: import_old_files(engine, project)
    )


def database_at(url: URL, first: Callable[[Engine], None] | None = None) -> Engine:
    """The engine of the database at `url` (a blocking driver's), its tables migrated the
    first time this process opens it; `first(engine)` is run then too."""
    key = url.render_as_string(hide_password=False)
    with _opening:
        engine = _engines.get(key)
        if engine is None:
            engine = make_engine(url)
            upgrade(engine)
            if first is not None:
                first(engine)
            _engines[key] = engine
    return engine


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        # A connection per use (cheap for a file; no handles left open on a project's
        # database), and every transaction takes the write lock at its start, so that a
        # check-then-write (a booking's overlap check) cannot interleave with another process.
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(
            engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE")
        )
        return engine
    if url.get_backend_name() == "postgresql":
        optional("psycopg", "the assistant's tables in PostgreSQL")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_connect(connection: sqlite3.Connection, record: Any) -> None:
    connection.isolation_level = None  # SQLAlchemy's "begin" event says BEGIN itself
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def write_lock(connection: Connection, name: str) -> None:
    """Hold `name`'s lock until the transaction ends, across every process on the database
    (SQLite's transactions already hold the file's write lock)."""
    transaction_lock(connection, name)


def upgrade(engine: Engine) -> None:
    """The assistant's tables at their newest schema; replicas starting together migrate
    one after the other."""
    # Imported here, at the first booking or lead of a process: 0.1 s of every start else.
    from alembic import command
    from alembic.config import Config

    logging.getLogger("alembic").setLevel(logging.WARNING)
    with engine.begin() as connection:
        write_lock(connection, "assistant_alembic_version")
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def now() -> float:
    return time.time()


def epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


def moment(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


# ---- the files of earlier versions -------------------------------------------------------


def import_old_files(engine: Engine, project: Path) -> None:
    """Rows of leads.db, calendar.db and outbox.db (kept before the assistant's tables moved
    into the project's database) copied over once."""
    for kind in OLD_FILES:
        import_old_file(engine, project / f"{kind}.db", kind)


def import_old_file(engine: Engine, path: Path, kind: str) -> None:
    """The rows of an earlier version's `kind` file (leads, calendar, outbox) copied into the
    tables, then the file renamed `*.imported`; nothing when there is no such file."""
    if not path.is_file():
        return
    try:
        with _reading(path) as old, engine.begin() as db:
            count = OLD_FILES[kind](old, db)
    except sqlite3.Error as error:
        logger.error("%s could not be imported (%s); it is left where it is", path, error)
        return
    path.rename(path.with_name(path.name + ".imported"))
    logger.warning("%d row(s) of %s imported into the project's database", count, path)


@contextmanager
def _reading(path: Path) -> Iterator[sqlite3.Connection]:
    old = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    old.row_factory = sqlite3.Row
    try:
        yield old
    finally:
        old.close()


def _seconds(value: Any) -> float:
    """An old file's ISO time; the time of the import for one that is not a time (a record
    time only: a booking's own times are always written by the calendar)."""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return now()
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


def _copy_leads(old: sqlite3.Connection, db: Connection) -> int:
    known = set(db.scalars(select(leads.c.email)))
    rows = []
    for row in old.execute("SELECT * FROM leads"):
        found = dict(row)
        if found["email"].lower() in known:
            continue
        marketing = found.get("marketing")
        rows.append(
            {
                "email": found["email"].lower(),
                "name": found["name"] or "",
                "phone": found["phone"] or "",
                "message": found["message"] or "",
                "source": found["source"] or "",
                "sender_id": found["sender_id"] or "",
                "crm_id": found["crm_id"],
                "synced": bool(found["synced"]),
                "marketing": None if marketing is None else bool(marketing),
                "marketing_at": _seconds(found["marketing_at"])
                if found.get("marketing_at")
                else None,
                "created_at": _seconds(found["created"]),
                "updated_at": _seconds(found["updated"]),
            }
        )
    if rows:
        db.execute(insert(leads), rows)
    return len(rows)


def _copy_appointments(old: sqlite3.Connection, db: Connection) -> int:
    known = set(db.scalars(select(appointments.c.id)))
    rows = [
        {
            "id": row["id"],
            "service": row["service"],
            "starts_at": _seconds(row["start"]),
            "ends_at": _seconds(row["end"]),
            "customer_name": row["customer_name"] or "",
            "email": row["email"] or "",
            "phone": row["phone"] or "",
            "status": row["status"],
            "created_at": _seconds(row["created"]),
        }
        for row in old.execute("SELECT * FROM appointments")
        if row["id"] not in known
    ]
    if rows:
        db.execute(insert(appointments), rows)
    return len(rows)


def _copy_outbox(old: sqlite3.Connection, db: Connection) -> int:
    rows = [
        {
            "kind": row["kind"],
            "payload": row["payload"],
            "reason": row["reason"] or "",
            "created_at": _seconds(row["created"]),
            "done": bool(row["done"]),
        }
        for row in old.execute("SELECT * FROM outbox WHERE done = 0 ORDER BY id")
    ]
    if rows:
        db.execute(insert(outbox), rows)
    return len(rows)


OLD_FILES = {"leads": _copy_leads, "calendar": _copy_appointments, "outbox": _copy_outbox}

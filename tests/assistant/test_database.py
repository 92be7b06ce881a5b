"""The assistant's tables live in the project's database (the conversations' one), so that
several server processes share leads, bookings and the outbox: migrated by Alembic, files of
earlier versions imported once, and waiting work claimed by one process at a time."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL, make_url

from actions.integrations.calendar import LocalCalendar, calendar_from_settings
from actions.integrations.database import database, database_at, make_engine, upgrade
from actions.integrations.outbox import Outbox
from actions.integrations.tables import metadata
from tests.conftest import write
from tests.services import Postgres

SQL_CONVERSATIONS = "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: talks.db\n"


def postgres_url(server: Postgres) -> URL:
    db = f"a{uuid.uuid4().hex[:10]}"
    server.psql(f"CREATE DATABASE {db}")
    return make_url(server.url(db)).set(drivername="postgresql+psycopg")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return database_at(URL.create("sqlite", database=str(tmp_path / "a.db")))
    return database_at(postgres_url(request.getfixturevalue("postgres")))


def test_the_migrations_build_exactly_the_tables_the_code_uses(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": "assistant_alembic_version"}
        )
        differences = [
            d for d in compare_metadata(context, metadata) if d[0] != "remove_table"
        ]  # the conversations' and the console's tables are not the assistant's
    assert differences == []


def test_the_tables_sit_beside_the_conversations(tmp_path: Path) -> None:
    write(tmp_path / "endpoints.yml", SQL_CONVERSATIONS)
    database(tmp_path)
    tables = inspect(make_engine(URL.create("sqlite", database=str(tmp_path / "talks.db"))))
    assert {"assistant_leads", "assistant_appointments", "assistant_outbox"} <= set(
        tables.get_table_names()
    )


def test_without_sql_conversations_they_share_the_consoles_database(tmp_path: Path) -> None:
    database(tmp_path)
    assert (tmp_path / "console.db").exists()


def test_the_endpoints_file_the_server_was_started_with_names_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`parlez run --endpoints elsewhere.yml` tells its in-process actions (PARLEZ_ENDPOINTS):
    they use the conversations' database of that file, not of the project's endpoints.yml."""
    elsewhere = write(tmp_path / "prod" / "endpoints.yml", SQL_CONVERSATIONS.replace("talks", "p"))
    monkeypatch.setenv("PARLEZ_ENDPOINTS", str(elsewhere))
    database(tmp_path)
    assert (tmp_path / "p.db").exists() and not (tmp_path / "console.db").exists()


def test_replicas_starting_together_migrate_once(postgres: Postgres) -> None:
    url = postgres_url(postgres)
    start = threading.Barrier(4)

    def migrate(_: int) -> None:
        engine = make_engine(url)  # an engine of its own, as each process has
        start.wait()
        upgrade(engine)
        engine.dispose()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(migrate, range(4)))
    assert "assistant_outbox" in inspect(make_engine(url)).get_table_names()


def test_the_calendar_and_outbox_files_of_an_earlier_version_are_imported_once(
    tmp_path: Path,
) -> None:
    old = tmp_path / "bookings" / "mine.db"  # business.yml named its own `path:`
    old.parent.mkdir()
    with sqlite3.connect(old) as db:
        db.execute(
            "CREATE TABLE appointments (id TEXT PRIMARY KEY, service TEXT NOT NULL, start TEXT "
            "NOT NULL, end TEXT NOT NULL, customer_name TEXT, email TEXT, phone TEXT, status "
            "TEXT NOT NULL DEFAULT 'booked', created TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO appointments VALUES ('a1', 'haircut', '2026-12-07T09:00:00+00:00', "
            "'2026-12-07T09:45:00+00:00', 'Ana', 'ana@x.org', '', 'booked', "
            "'2026-12-01T08:00:00+00:00')"
        )
    db.close()
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        db.execute(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
            "payload TEXT NOT NULL, reason TEXT, created TEXT NOT NULL, done INTEGER NOT NULL "
            "DEFAULT 0)"
        )
        db.execute("INSERT INTO outbox VALUES (1, 'email', '{\"message\": \"a\"}', 'down', 'x', 1)")
        db.execute("INSERT INTO outbox VALUES (2, 'email', '{\"message\": \"b\"}', 'down', 'x', 0)")
    db.close()
    calendar = calendar_from_settings({"type": "sqlite", "path": "bookings/mine.db"}, tmp_path)
    after = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    (kept,) = calendar.upcoming("ANA@x.org", after)
    assert (kept.id, kept.start) == ("a1", dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC))
    assert Outbox(database(tmp_path)).pending("email") == [(1, {"message": "b"})]  # not done
    assert (tmp_path / "outbox.db.imported").exists() and (old.parent / "mine.db.imported").exists()
    calendar_from_settings({"type": "local", "path": "bookings/mine.db"}, tmp_path)
    assert len(LocalCalendar(database(tmp_path)).upcoming("ana@x.org", after)) == 1


def test_waiting_work_is_claimed_by_one_process_at_a_time(engine: Engine) -> None:
    """Two retries at once (two replicas, two cron runs) never send one e-mail twice; what
    a retry gives back, or holds past its lease (it died), is taken by the next."""
    outbox = Outbox(engine)
    for n in range(20):
        outbox.put("email", {"n": n})
    start = threading.Barrier(4)

    def claim(_: int) -> list[int]:
        start.wait()
        return [item for item, _ in Outbox(engine).claim("email")]

    with ThreadPoolExecutor(4) as pool:
        claimed = [item for items in pool.map(claim, range(4)) for item in items]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 20
    assert outbox.claim("email") == []  # all held
    outbox.release(claimed[:3])
    assert [item for item, _ in outbox.claim("email")] == sorted(claimed[:3])
    outbox.done(claimed[0])
    outbox.release(claimed)
    assert len(outbox.claim("email", lease=-1)) == 19  # a lease already over...
    assert len(outbox.claim("email")) == 19  # ...is taken again
    with outbox.claimed("email") as nothing:
        assert nothing.items == []


def test_a_claimed_block_gives_back_what_it_did_not_finish(engine: Engine) -> None:
    outbox = Outbox(engine)
    first, second = outbox.put("booking", {"a": 1}), outbox.put("booking", {"b": 2})
    with pytest.raises(RuntimeError), outbox.claimed("booking") as waiting:
        waiting.done(first)
        raise RuntimeError("the retry failed half-way")
    assert outbox.claim("booking") == [(second, {"b": 2})]

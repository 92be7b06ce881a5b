"""The console's tables: brought up to date by `parlez console migrate` (a deployment's
migration job) or by each server as it starts, one replica after the other."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from parlez.console.database import ConsoleDatabase
from tests.conftest import write
from tests.services import Postgres


def test_parlez_console_migrate_makes_the_tables_beside_the_conversations(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "endpoints.yml",
        "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: talks.db\n",
    )
    done = subprocess.run(
        [sys.executable, "-m", "parlez", "console", "migrate", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    tables = inspect(create_engine(f"sqlite:///{tmp_path / 'talks.db'}")).get_table_names()
    assert {"console_users", "console_alembic_version"} <= set(tables)


def test_replicas_starting_together_migrate_one_after_the_other(postgres: Postgres) -> None:
    db = f"c{uuid.uuid4().hex[:10]}"
    postgres.psql(f"CREATE DATABASE {db}")

    async def start(replicas: int) -> None:
        databases = [ConsoleDatabase.at(postgres.url(db)) for _ in range(replicas)]
        try:
            await asyncio.gather(*(database.upgrade() for database in databases))
        finally:
            await asyncio.gather(*(database.close() for database in databases))

    asyncio.run(start(4))
    assert "console_users" in postgres.psql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", db
    )


def test_head_names_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from parlez.console.database import HEAD, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_tables_at_the_newest_migration_are_not_handed_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server's start reads the version itself: importing Alembic took 0.1 s of it."""
    import parlez.console.database as database

    url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"

    async def upgraded() -> None:
        console = ConsoleDatabase.at(url)
        try:
            await console.upgrade()
        finally:
            await console.close()

    asyncio.run(upgraded())  # new tables: migrated

    def refused(connection: object) -> None:
        raise AssertionError("Alembic was run on tables at the newest migration")

    monkeypatch.setattr(database, "_upgrade", refused)
    asyncio.run(upgraded())
    monkeypatch.setattr(database, "HEAD", "9999")  # a newer parlez: Alembic migrates
    with pytest.raises(AssertionError, match="Alembic was run"):
        asyncio.run(upgraded())

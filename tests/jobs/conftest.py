"""The jobs' table in a real database: SQLite, and PostgreSQL where several processes share
it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from parlez.console.database import ConsoleDatabase
from parlez.stores.sql import SQLTrackerStore
from tests.console.conftest import database_url


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    store = SQLTrackerStore(database_url(request.param, request, tmp_path))
    await ConsoleDatabase(store.engine).upgrade()
    yield store.engine
    await store.close()


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

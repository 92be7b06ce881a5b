"""Database calls are retried only when trying again can help: a server away or busy, not a
statement the database refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from parlez.stores import engine
from parlez.stores.engine import make_engine, with_retries
from parlez.stores.errors import StoreDataError, StoreUnavailableError

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "RETRY_DELAYS", (0.0, 0.0, 0.0))


async def test_a_bad_statement_is_tried_once(tmp_path: Path) -> None:
    made = make_engine(engine.URL.create("sqlite+aiosqlite", database=str(tmp_path / "x.db")))
    tries = 0

    async def broken() -> None:
        nonlocal tries
        tries += 1
        async with made.connect() as connection:
            await connection.execute(text("SELECT nothing FROM nowhere"))

    with pytest.raises(StoreDataError, match="refused to read"):
        await with_retries("read", broken)
    assert tries == 1
    await made.dispose()


async def test_a_server_away_for_a_moment_is_waited_for() -> None:
    tries = 0

    async def flaky() -> str:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
        return "read"

    assert await with_retries("read", flaky) == "read"
    assert tries == 3


async def test_a_server_that_stays_away_is_a_clear_error_after_every_retry() -> None:
    tries = 0

    async def away() -> None:
        nonlocal tries
        tries += 1
        raise OSError("connection refused")

    with pytest.raises(StoreUnavailableError, match="did not answer while trying to save"):
        await with_retries("save", away)
    assert tries == 4  # the first try and one per delay

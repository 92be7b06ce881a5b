"""The project's SQL database: where the conversations are kept when `tracker_store:` is SQL,
else `console.db` in the project. The console's tables and the assistant's own (leads, the
local calendar, the outbox) live there too, so that every server process and action server
of one business sees the same data.

Custom actions reach it with `project_database_url(project, sync=True)`: actions that call
their integrations from worker threads use a plain (blocking) SQLAlchemy engine there.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL

from parlez.endpoints import EndpointConfig, Endpoints
from parlez.registry import tracker_stores

ENDPOINTS_ENV = "PARLEZ_ENDPOINTS"
#: the database of a project whose conversations are not kept in SQL
LOCAL_DATABASE = "console.db"
#: the blocking driver for each async one of parlez.stores.engine
SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite+pysqlite", "postgresql+asyncpg": "postgresql+psycopg"}


def endpoints_file(project: Path) -> Path:
    """The endpoints file `project` is served with: the one `parlez run --endpoints` names
    (PARLEZ_ENDPOINTS, set for the actions it runs), else the project's endpoints.yml."""
    return Path(os.environ.get(ENDPOINTS_ENV) or project / "endpoints.yml")


def tracker_store_is_sql(config: EndpointConfig | None) -> bool:
    from parlez.stores.sql import SQLTrackerStore

    if config is None or not config.type:
        return False
    return issubclass(tracker_stores.get(config.type), SQLTrackerStore)


def project_database_url(
    project: Path, endpoints: Endpoints | None = None, *, sync: bool = False
) -> URL:
    """The URL of `project`'s database, read from the endpoints file it is served with unless
    `endpoints` is given; with `sync`, for a blocking engine (pysqlite, psycopg) instead of an
    async one."""
    from parlez.stores.engine import database_url

    project = project.resolve()
    endpoints = endpoints if endpoints is not None else Endpoints.load(endpoints_file(project))
    if tracker_store_is_sql(endpoints.tracker_store):
        assert endpoints.tracker_store is not None
        url = database_url(endpoints.tracker_store, project)
    else:
        url = URL.create("sqlite+aiosqlite", database=str(project / LOCAL_DATABASE))
    if sync:
        url = url.set(drivername=SYNC_DRIVERS.get(url.drivername, url.drivername))
    return url


def transaction_lock(connection: Any, name: str) -> None:
    """Hold the lock called `name` until `connection`'s transaction ends, across every
    process on the database: PostgreSQL's advisory lock keyed by the name's hash; SQLite's
    write transactions already hold the whole file. `connection` is a blocking SQLAlchemy
    connection (an async one's `run_sync` gives one)."""
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

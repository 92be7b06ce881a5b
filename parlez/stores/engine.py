"""SQLAlchemy async engines for the stores: the database URL from Rasa's SQL keys, the
engine, and retries while the database server is away."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
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
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_chain,
    wait_fixed,
)

from parlez import metrics
from parlez.endpoints import EndpointConfig
from parlez.extras import optional
from parlez.stores.errors import StoreConfigError, StoreDataError, StoreUnavailableError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: SQLAlchemy's async driver for each dialect Rasa users name in endpoints.yml.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "postgres": "asyncpg"}
RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0)


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
    if url.get_backend_name() == "postgresql":
        optional("asyncpg", "a PostgreSQL database")
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
#: SQLite's (primary result codes): busy, locked, an I/O error, cannot open, protocol
RETRYABLE_SQLITE_CODES = (5, 6, 10, 14, 15)


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
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        # SQLite says "OperationalError" for a syntax error or a missing table too
        return code & 0xFF in RETRYABLE_SQLITE_CODES
    return not isinstance(error, IntegrityError | ProgrammingError | DataError)


#: what a database call may raise that `retryable` sorts
DATABASE_ERRORS = (OperationalError, InterfaceError, DBAPIError, OSError)


def _may_pass(error: BaseException) -> bool:
    return isinstance(error, DATABASE_ERRORS) and retryable(error)


async def with_retries(what: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a database call, retrying (`RETRY_DELAYS`) only what may pass while the server
    is away or busy; raise a clear error once it stays away, or at once for a statement
    that would fail again.

    What the database says goes to the log only: it holds the statement and its values.
    """

    def warn(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "the database failed to %s (%s); retrying in %.1f s",
            what,
            type(error).__name__,
            delay,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception(_may_pass),
        wait=wait_chain(*(wait_fixed(delay) for delay in RETRY_DELAYS)),
        stop=stop_after_attempt(len(RETRY_DELAYS) + 1),
        before_sleep=warn,
        reraise=True,
    )
    try:
        async for attempt_state in retrying:
            with attempt_state:
                return await attempt()
    except DATABASE_ERRORS as error:
        metrics.STORE_ERRORS.labels(operation=what).inc()
        if not retryable(error):
            logger.error("the database refused to %s: %s", what, error)
            raise StoreDataError(
                f"the database refused to {what} ({type(error).__name__}); "
                "the server's log has the details",
                hint="a value the database cannot hold, such as a NUL character",
            ) from error
        logger.error("the database did not answer while trying to %s: %s", what, error)
        raise StoreUnavailableError(
            f"the database did not answer while trying to {what}",
            hint="check that the database server is running and reachable",
        ) from error
    raise AssertionError("unreachable: tenacity returns or raises")

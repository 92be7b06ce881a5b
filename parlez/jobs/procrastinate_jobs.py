"""Jobs on PostgreSQL with procrastinate: what several replicas of the server share.

Each replica runs a procrastinate worker inside its server process. A job is taken by one
worker (PostgreSQL's row locks), a repeated task is deferred once per period across all
replicas (procrastinate's periodic defers), and a worker that stops sending its heartbeat
(its process killed) has its jobs run again by another replica (`retry stalled`, itself a
repeated task). procrastinate's tables live beside the conversations; the first replica to
start makes them.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.engine import URL

from parlez.jobs.runner import Task

logger = logging.getLogger(__name__)

#: the repeated task that gives the jobs of dead workers to live ones
RETRY_STALLED = "parlez.jobs.retry_stalled"
#: the longest a stopping server waits for the worker, then for its connections
STOP_SECONDS = 15.0
#: the advisory lock replicas take to make procrastinate's tables one at a time
SCHEMA_LOCK = 0x7061726C657A


class _Backoff(BaseRetryStrategy):
    """The task's own retries: `backoff` seconds, doubled each time."""

    def __init__(self, task: Task) -> None:
        self.task = task

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        tries = job.attempts + 1
        if tries > self.task.retries:
            logger.error("The job %s (%s) failed for good: %s", job.id, self.task.name, exception)
            return None
        logger.warning(
            "The job %s (%s) failed (try %d), and is tried again: %s",
            job.id,
            self.task.name,
            tries,
            exception,
        )
        return RetryDecision(retry_in={"seconds": int(self.task.delay(tries))})


#: seconds before a worker that stopped (its database away) is started again
RESTART = 5.0


def conninfo(url: URL) -> str:
    """libpq's address of the database a SQLAlchemy URL names (`postgresql+asyncpg://`)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def cron(seconds: float) -> str:
    """A cron expression for "every `seconds`" (a divisor of a minute or of an hour)."""
    whole = int(seconds)
    if whole < 60 and 60 % whole == 0:
        return f"* * * * * */{whole}"  # croniter's sixth field: seconds
    minutes = whole // 60
    if whole % 60 == 0 and 60 % minutes == 0:
        return f"*/{minutes} * * * *"
    raise ValueError(f"every {seconds} s is not a divisor of a minute or an hour")


class ProcrastinateJobs:
    def __init__(
        self,
        url: URL,
        heartbeat: float = 10.0,
        stalled_after: float = 30.0,
        concurrency: int = 4,
        stalled_check: float = 60.0,
        settle: float = 2.0,
    ) -> None:
        self.conninfo = conninfo(url)
        self.app = App(connector=PsycopgConnector(conninfo=self.conninfo, min_size=1, max_size=4))
        self.heartbeat = heartbeat
        self.stalled_after = stalled_after
        self.concurrency = concurrency
        #: seconds after start before the worker opens its connections
        self.settle = settle
        self._worker: asyncio.Task[None] | None = None
        self._open = False
        self._begun = False
        self._beginning = asyncio.Lock()
        self._add_retry_stalled(stalled_check)

    def _add_retry_stalled(self, every: float) -> None:
        app = self.app

        async def retry_stalled(timestamp: int) -> None:
            stalled = await app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=self.stalled_after
            )
            for job in stalled:
                logger.warning(
                    "The job %s (%s) was held by a worker that stopped: it runs again",
                    job.id,
                    job.task_name,
                )
                await app.job_manager.retry_job(job)

        task = app.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED, pass_context=False)(
            retry_stalled
        )
        app.periodic(cron=cron(every), periodic_id=RETRY_STALLED)(task)

    def add(self, task: Task, every: float | None = None) -> None:
        if every is not None:

            async def repeat(timestamp: int) -> None:  # procrastinate gives the period's time
                await task.run({})

            repeated = self.app.task(
                name=task.name, queueing_lock=task.name, retry=False, pass_context=False
            )(repeat)
            self.app.periodic(cron=cron(every), periodic_id=task.name)(repeated)
            return

        async def run(**arguments: Any) -> None:
            await task.run(arguments)

        self.app.task(name=task.name, retry=_Backoff(task), pass_context=False)(run)

    async def defer(
        self,
        task: str,
        arguments: dict[str, Any] | None = None,
        at: float | None = None,
        key: str | None = None,
    ) -> bool:
        await self.begin()
        options: dict[str, Any] = {}
        if at is not None:
            options["schedule_at"] = datetime.datetime.fromtimestamp(at, datetime.UTC)
        if key is not None:
            options["queueing_lock"] = key
        try:
            await self.app.configure_task(task, **options).defer_async(**(arguments or {}))
        except AlreadyEnqueued:
            return False
        return True

    async def begin(self) -> None:
        """Open the connections and make procrastinate's tables if this is the first start."""
        async with self._beginning:
            if not self._begun:
                await self._opened()
                await self._make_tables()
                self._begun = True

    async def _make_tables(self) -> None:
        """procrastinate's schema, made once: replicas starting together wait on a lock."""
        import psycopg
        from procrastinate.schema import SchemaManager

        async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as db:
            for _ in range(300):  # another replica making them: a minute at most
                taken = await (
                    await db.execute("SELECT pg_try_advisory_lock(%s)", (SCHEMA_LOCK,))
                ).fetchone()
                if taken and taken[0]:
                    break
                await asyncio.sleep(0.2)
            else:
                raise TimeoutError("another replica holds the lock on procrastinate's tables")
            try:
                found = await db.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
                made = await found.fetchone()
                if not (made and made[0]):
                    async with db.transaction():
                        await db.execute(SchemaManager.get_schema())
                    logger.info("procrastinate's tables were made for the jobs")
            finally:
                await db.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    async def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        # A server that stops at once (a health probe's start, a test's request) never
        # opens a worker it would have to wind down.
        await asyncio.sleep(self.settle)
        while True:
            try:
                await self.begin()
                await self.app.run_worker_async(
                    install_signal_handlers=False,
                    concurrency=self.concurrency,
                    update_heartbeat_interval=self.heartbeat,
                    stalled_worker_timeout=self.stalled_after,
                    shutdown_graceful_timeout=10,
                )
                # procrastinate stops its worker when one of its side tasks fails (the
                # listener's connection lost when PostgreSQL restarts): without a new
                # worker, this replica would run no job again until it is restarted.
                logger.warning("The jobs' worker stopped; it starts again in %g s", RESTART)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database away: try again
                logger.warning(
                    "The jobs' worker stopped (%s); it starts again in %g s", error, RESTART
                )
            await asyncio.sleep(RESTART)

    async def run_until_idle(self) -> None:
        """Run the jobs due now, then return (a one-off command, a test)."""
        await self.begin()
        await self.app.run_worker_async(
            install_signal_handlers=False, wait=False, listen_notify=False
        )

    async def close(self) -> None:
        """Stop the worker (a job running gets a few seconds to end) and the connections;
        never waits longer than `STOP_SECONDS` for either."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await asyncio.wait_for(self._worker, STOP_SECONDS)
            except (asyncio.CancelledError, TimeoutError):
                pass
            except Exception as error:  # stopping: what the worker hit no longer matters
                logger.warning("The jobs' worker stopped on an error: %s", error)
            self._worker = None
        if self._open:
            try:
                await asyncio.wait_for(self.app.close_async(), STOP_SECONDS)
            except TimeoutError:
                logger.warning("The jobs' connections did not close in time")
            self._open = False
        self._begun = False

    async def _opened(self) -> None:
        if not self._open:
            await self.app.open_async()
            self._open = True

"""Jobs kept in the conversations' SQL database (SQLite by default, PostgreSQL for several
server processes): a job survives a restart, and is taken by one process alone.

A process takes a due job by leasing it (`leased_until`) in the same statement that checks
nobody holds it, so two processes never both take it. A process killed while running a job
leaves the lease to run out; then any process takes the job again. A job therefore runs at
least once, and its task must tolerate a second run (the follow-ups check what they sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Text,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import Table

from parlez.jobs.runner import Task

logger = logging.getLogger(__name__)

#: created by the console's migrations (0013), in the conversations' database
jobs_table = Table(
    "parlez_jobs",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task", String(128), nullable=False),
    Column("arguments", Text, nullable=False, default="{}"),
    #: one job at a time with the same key (a repeated task's, a follow-up's)
    Column("key", String(255), unique=True),
    Column("run_at", Float, nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("leased_until", Float),
    Column("failed_at", Float),
    Column("error", Text, nullable=False, default=""),
    sqlite_autoincrement=True,  # an id is never given to a second job
)

#: how long a process holds a job it took before another may take it again
LEASE_SECONDS = 300.0
#: the longest wait between two looks for due jobs (another process may have deferred one)
POLL_SECONDS = 5.0
#: due jobs taken at a time
BATCH = 20
#: what is kept of a failure's message
MAX_ERROR = 2000


@dataclass(frozen=True)
class FailedJob:
    id: int
    task: str
    arguments: dict[str, Any]
    attempts: int
    failed_at: float
    error: str


@dataclass(frozen=True)
class _Taken:
    id: int
    task: Task
    arguments: dict[str, Any]
    attempts: int
    key: str | None


class SqlJobs:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], float] = time.time,
        lease: float = LEASE_SECONDS,
        poll: float = POLL_SECONDS,
        prepare: Callable[[], Awaitable[None]] | None = None,
        grace: float = 10.0,
    ) -> None:
        self.engine = engine
        #: how long closing waits for the job running now before it gives the job back
        self.grace = grace
        #: run before the first job (the migrations that make the jobs' table)
        self.prepare = prepare
        self.clock = clock
        self.lease = lease
        self.poll = poll
        self.tasks: dict[str, Task] = {}
        self.every: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._holding: set[int] = set()
        self._stopping = False

    def add(self, task: Task, every: float | None = None) -> None:
        self.tasks[task.name] = task
        if every is not None:
            self.every[task.name] = every

    async def defer(
        self,
        task: str,
        arguments: dict[str, Any] | None = None,
        at: float | None = None,
        key: str | None = None,
    ) -> bool:
        row = {
            "task": task,
            "arguments": json.dumps(arguments or {}),
            "key": key,
            "run_at": self.clock() if at is None else at,
            "attempts": 0,
            "error": "",
        }
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(jobs_table).values(**row))
        except IntegrityError:
            return False  # a job with this key waits or runs
        self._wake.set()
        return True

    async def start(self) -> None:
        """Run due jobs in the background from now on (a database still away is waited for)."""
        self._stopping = False
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def begin(self) -> None:
        """Prepare the database and put the repeated tasks' first runs in it (a run already
        there, from another process or before a restart, is kept)."""
        if self.prepare is not None:
            await self.prepare()
        for name in self.every:
            await self.defer(name, at=self.clock(), key=_every_key(name))

    async def close(self) -> None:
        if self._worker is not None:
            # Stopped between two statements, not in one: the job running now may end.
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), self.grace)
            except TimeoutError:
                self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
            self._stopping = False
        if self._holding:  # the jobs this process had taken run again at once elsewhere
            async with self.engine.begin() as connection:
                await connection.execute(
                    update(jobs_table)
                    .where(jobs_table.c.id.in_(sorted(self._holding)))
                    .values(leased_until=None, attempts=jobs_table.c.attempts - 1)
                )
            self._holding.clear()

    async def run_due(self) -> int:
        """Take the jobs due now and run them, one after another. How many ran."""
        taken = await self._take()
        for job in taken:
            if self._stopping:  # closing: the rest go back at once
                break
            await self._run(job)
        return len(taken)

    async def waiting(self) -> int:
        """Jobs not yet run (due or not), failed ones left out."""
        async with self.engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(jobs_table).where(jobs_table.c.failed_at.is_(None))
            )
        return int(count or 0)

    async def failed(self, limit: int = 100) -> list[FailedJob]:
        """The jobs that failed their last try, newest first."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(jobs_table)
                .where(jobs_table.c.failed_at.is_not(None))
                .order_by(jobs_table.c.failed_at.desc())
                .limit(limit)
            )
            return [
                FailedJob(r.id, r.task, json.loads(r.arguments), r.attempts, r.failed_at, r.error)
                for r in rows
            ]

    # ---- the worker ---------------------------------------------------------------------

    async def _work(self) -> None:
        begun = False
        while not self._stopping:
            self._wake.clear()  # a job deferred from here on wakes the wait below
            try:
                if not begun:
                    await self.begin()
                    begun = True
                if await self.run_due():
                    continue
                pause = await self._until_next()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database away: look again later
                logger.warning("The jobs could not be read: %s", error)
                pause = self.poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(pause, 0.05))

    async def _until_next(self) -> float:
        async with self.engine.connect() as connection:
            next_at = await connection.scalar(
                select(func.min(jobs_table.c.run_at)).where(
                    jobs_table.c.failed_at.is_(None), jobs_table.c.task.in_(sorted(self.tasks))
                )
            )
        if next_at is None:
            return self.poll
        return min(self.poll, float(next_at) - self.clock())

    async def _take(self) -> list[_Taken]:
        if not self.tasks:
            return []
        now = self.clock()
        takeable = (
            jobs_table.c.run_at <= now,
            jobs_table.c.failed_at.is_(None),
            or_(jobs_table.c.leased_until.is_(None), jobs_table.c.leased_until < now),
        )
        async with self.engine.begin() as connection:
            due = (
                await connection.scalars(
                    select(jobs_table.c.id)
                    .where(jobs_table.c.task.in_(sorted(self.tasks)), *takeable)
                    .order_by(jobs_table.c.run_at)
                    .limit(BATCH)
                )
            ).all()
            if not due:
                return []
            # Checked again as it is taken: of two processes, one wins each job (a job run
            # and rescheduled meanwhile is not due any more).
            rows = await connection.execute(
                update(jobs_table)
                .where(jobs_table.c.id.in_(due), *takeable)
                .values(leased_until=now + self.lease, attempts=jobs_table.c.attempts + 1)
                .returning(
                    jobs_table.c.id,
                    jobs_table.c.task,
                    jobs_table.c.arguments,
                    jobs_table.c.attempts,
                    jobs_table.c.key,
                )
            )
            taken = [
                _Taken(r.id, self.tasks[r.task], json.loads(r.arguments), r.attempts, r.key)
                for r in rows
            ]
        self._holding.update(job.id for job in taken)
        return sorted(taken, key=lambda job: job.id)

    async def _run(self, job: _Taken) -> None:
        mine = (jobs_table.c.id == job.id) & (jobs_table.c.attempts == job.attempts)
        try:
            await job.task.run(job.arguments)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self._failed(job, mine, error)
        else:
            async with self.engine.begin() as connection:
                if job.key == _every_key(job.task.name):  # the same row waits for next time
                    await connection.execute(
                        update(jobs_table)
                        .where(mine)
                        .values(
                            run_at=self.clock() + self.every[job.task.name],
                            attempts=0,
                            leased_until=None,
                            error="",
                        )
                    )
                else:
                    await connection.execute(delete(jobs_table).where(mine))
        self._holding.discard(job.id)

    async def _failed(self, job: _Taken, mine: Any, error: Exception) -> None:
        message = (f"{type(error).__name__}: {error}")[:MAX_ERROR]
        now = self.clock()
        values: dict[str, Any] = {"leased_until": None, "error": message}
        if job.key == _every_key(job.task.name):
            # a repeated task is not retried: it runs again at its next time
            logger.warning("The repeated job %s failed: %s", job.task.name, message)
            values.update(run_at=now + self.every[job.task.name], attempts=0)
        elif job.attempts > job.task.retries:
            logger.error("The job %s (%s) failed for good: %s", job.id, job.task.name, message)
            values.update(failed_at=now)
        else:
            logger.warning(
                "The job %s (%s) failed (try %d), and is tried again: %s",
                job.id,
                job.task.name,
                job.attempts,
                message,
            )
            values.update(run_at=now + job.task.delay(job.attempts))
        async with self.engine.begin() as connection:
            await connection.execute(update(jobs_table).where(mine).values(**values))


def _every_key(task: str) -> str:
    return f"every:{task}"

"""Jobs on PostgreSQL with procrastinate, as several replicas run them: deferred once per
key, retried then kept as failed, a repeated task once across workers, and a job held by a
killed worker run again by another."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from parlez.jobs import Task
from parlez.jobs.procrastinate_jobs import ProcrastinateJobs, conninfo, cron
from tests.conftest import REPO
from tests.services import Postgres, start_postgres

pytestmark = pytest.mark.anyio


@pytest.fixture
def url(postgres: Postgres) -> str:
    name = f"j{uuid.uuid4().hex[:10]}"
    postgres.psql(f"CREATE DATABASE {name}")
    return postgres.url(name)


@pytest.fixture
async def jobs(url: str) -> AsyncIterator[ProcrastinateJobs]:
    made = ProcrastinateJobs(make_url(url), heartbeat=0.5, stalled_after=2)
    yield made
    await made.close()


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def test_the_address_and_the_periods() -> None:
    url = make_url("postgresql+asyncpg://ana:s3cret@db.example:5433/parlez")
    assert conninfo(url) == "postgresql://ana:s3cret@db.example:5433/parlez"
    assert (cron(60), cron(600), cron(15)) == ("*/1 * * * *", "*/10 * * * *", "* * * * * */15")
    with pytest.raises(ValueError, match="divisor"):
        cron(7 * 60)


async def test_a_deferred_job_runs_once_and_a_key_defers_it_once(jobs: ProcrastinateJobs) -> None:
    ran: list[dict[str, Any]] = []

    async def send(arguments: dict[str, Any]) -> None:
        ran.append(arguments)

    jobs.add(Task("send", send))
    await jobs.begin()
    assert await jobs.defer("send", {"id": 1}, key="follow-up:1")
    assert not await jobs.defer("send", {"id": 1}, key="follow-up:1")  # still waiting
    assert await jobs.defer("send", {"id": 2}, at=time.time() + 3600)  # not due yet
    await jobs.start()
    await until(lambda: ran == [{"id": 1}], "the job never ran")
    await asyncio.sleep(0.5)
    assert ran == [{"id": 1}]


async def test_a_failing_job_is_retried_with_its_backoff_then_kept_as_failed(
    jobs: ProcrastinateJobs,
) -> None:
    tries: list[float] = []

    async def flaky(arguments: dict[str, Any]) -> None:
        tries.append(time.monotonic())
        raise ConnectionError("the mail server is away")

    jobs.add(Task("flaky", flaky, retries=2, backoff=1))
    await jobs.start()
    await jobs.defer("flaky", {"id": 7})
    await until(lambda: len(tries) == 3, "the job was not tried three times")
    # 1 s, then 2 s at least (a worker looks for jobs scheduled later every few seconds)
    assert tries[1] - tries[0] >= 0.9 and tries[2] - tries[1] >= 1.9
    await asyncio.sleep(1)
    assert len(tries) == 3
    failed = await jobs.app.job_manager.list_jobs_async(task="flaky", status="failed")
    assert len(list(failed)) == 1


async def test_a_repeated_task_runs_once_a_period_across_workers(url: str) -> None:
    ran: list[float] = []

    async def scan(arguments: dict[str, Any]) -> None:
        ran.append(time.time())

    replicas = [ProcrastinateJobs(make_url(url)) for _ in range(2)]
    try:
        for replica in replicas:
            replica.add(Task("scan", scan), every=2)
            await replica.start()
        await until(lambda: len(ran) >= 3, "the repeated task did not run")
        await asyncio.sleep(0.5)
        # Never twice for the same period: each period's job is deferred once, whichever
        # replica defers it. (When the job ran is no measure: on a busy machine one period's
        # job can run late, in the same second as the next period's.)
        jobs = await replicas[0].app.job_manager.list_jobs_async(task="scan")
        periods = [job.task_kwargs["timestamp"] for job in jobs]
        assert len(periods) >= 3
        assert len(periods) == len(set(periods))
    finally:
        for replica in replicas:
            await replica.close()


async def test_the_repeated_tasks_go_on_after_postgresql_restarts(tmp_path: Path) -> None:
    """procrastinate stops its worker when PostgreSQL goes away (its listener fails); the
    replica starts another, so that its jobs do not stop until the replica restarts."""
    ran: list[float] = []

    async def scan(arguments: dict[str, Any]) -> None:
        ran.append(time.time())

    with contextmanager(start_postgres)(tmp_path / "pg") as postgres:
        postgres.psql("CREATE DATABASE restarted")
        jobs = ProcrastinateJobs(make_url(postgres.url("restarted")), settle=0)
        jobs.add(Task("scan", scan), every=1)
        try:
            await jobs.start()
            await until(lambda: len(ran) >= 2, "the repeated task did not run")
            await asyncio.to_thread(postgres.stop)
            await asyncio.sleep(2)  # the worker's listener loses its connection
            await asyncio.to_thread(postgres.start)
            back = time.time()
            await until(
                lambda: sum(1 for at in ran if at > back) >= 2,
                "the repeated task stopped after PostgreSQL restarted",
            )
        finally:
            await jobs.close()


WORKER = """
import asyncio, sys
from pathlib import Path
from sqlalchemy.engine import make_url
from parlez.jobs import Task
from parlez.jobs.procrastinate_jobs import ProcrastinateJobs

url, marker = sys.argv[1], Path(sys.argv[2])

async def stuck(arguments):
    marker.write_text(str(arguments["n"]))
    await asyncio.Event().wait()  # killed here

async def main():
    jobs = ProcrastinateJobs(make_url(url), heartbeat=0.5, stalled_after=2)
    jobs.add(Task("send", stuck))
    await jobs.begin()
    await jobs.defer("send", {"n": 1})
    await jobs.start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_job_held_by_a_killed_replica_runs_in_another(url: str, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(marker)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await until(lambda: marker.exists() or worker.poll() is not None, "never started")
        assert marker.exists(), worker.stderr.read() if worker.stderr else ""
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(60)
    ran: list[dict[str, Any]] = []

    async def send(arguments: dict[str, Any]) -> None:
        ran.append(arguments)

    survivor = ProcrastinateJobs(make_url(url), heartbeat=0.5, stalled_after=2, stalled_check=1)
    survivor.add(Task("send", send))
    try:
        await survivor.start()
        await until(lambda: ran == [{"n": 1}], "the killed replica's job was lost")
    finally:
        await survivor.close()


async def test_replicas_starting_together_make_the_tables_once(url: str) -> None:
    replicas = [ProcrastinateJobs(make_url(url)) for _ in range(3)]
    try:
        await asyncio.gather(*(replica.begin() for replica in replicas))
        for replica in replicas:
            replica.add(Task("noop", lambda arguments: asyncio.sleep(0)))
        assert await replicas[2].defer("noop")
    finally:
        for replica in replicas:
            await replica.close()

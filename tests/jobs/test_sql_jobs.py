"""Jobs in SQL: run at their time, once per key, retried, kept when they fail for good, and
taken by one process alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from parlez.jobs import SqlJobs, Task
from tests.jobs.conftest import Clock

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.ran: list[dict[str, Any]] = []
        self.fail = fail

    async def __call__(self, arguments: dict[str, Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("the mail server is away")
        self.ran.append(arguments)


async def test_a_job_runs_at_its_time_and_not_before(engine: AsyncEngine) -> None:
    clock, work = Clock(), Recorder()
    jobs = SqlJobs(engine, clock=clock)
    jobs.add(Task("remind", work))
    assert await jobs.defer("remind", {"who": "ana"}, at=clock.now + 60)
    assert await jobs.run_due() == 0
    clock.now += 60
    assert await jobs.run_due() == 1
    assert work.ran == [{"who": "ana"}]
    assert await jobs.waiting() == 0


async def test_a_key_defers_one_job_while_it_waits(engine: AsyncEngine) -> None:
    clock, work = Clock(), Recorder()
    jobs = SqlJobs(engine, clock=clock)
    jobs.add(Task("send", work))
    assert await jobs.defer("send", {"id": 1}, key="follow-up:1")
    assert not await jobs.defer("send", {"id": 1}, key="follow-up:1")
    await jobs.run_due()
    assert work.ran == [{"id": 1}]


async def test_a_failing_job_is_retried_later_then_kept_as_failed(engine: AsyncEngine) -> None:
    clock, work = Clock(), Recorder(fail=10)
    jobs = SqlJobs(engine, clock=clock)
    jobs.add(Task("send", work, retries=2, backoff=30))
    await jobs.defer("send", {"id": 7})
    await jobs.run_due()  # try 1 fails
    assert await jobs.run_due() == 0  # not again at once
    clock.now += 30
    await jobs.run_due()  # try 2 fails: the next waits twice as long
    clock.now += 59
    assert await jobs.run_due() == 0
    clock.now += 1
    await jobs.run_due()  # try 3, the last
    clock.now += 10_000
    assert await jobs.run_due() == 0
    [failed] = await jobs.failed()
    assert (failed.task, failed.arguments, failed.attempts) == ("send", {"id": 7}, 3)
    assert "ConnectionError: the mail server is away" in failed.error
    assert await jobs.waiting() == 0


async def test_a_job_that_fails_once_runs_at_the_retry(engine: AsyncEngine) -> None:
    clock, work = Clock(), Recorder(fail=1)
    jobs = SqlJobs(engine, clock=clock)
    jobs.add(Task("send", work, retries=3, backoff=5))
    await jobs.defer("send", {"id": 1})
    await jobs.run_due()
    clock.now += 5
    await jobs.run_due()
    assert work.ran == [{"id": 1}]
    assert await jobs.failed() == []


async def test_a_repeated_task_runs_once_across_processes_and_again_later(
    engine: AsyncEngine,
) -> None:
    clock, work = Clock(), Recorder()
    first, second = SqlJobs(engine, clock=clock), SqlJobs(engine, clock=clock)
    for jobs in (first, second):
        jobs.add(Task("scan", work), every=60)
        await jobs.begin()  # both processes start
    await asyncio.gather(first.run_due(), second.run_due())
    assert len(work.ran) == 1
    clock.now += 30
    assert await first.run_due() + await second.run_due() == 0
    clock.now += 30
    await asyncio.gather(first.run_due(), second.run_due())
    assert len(work.ran) == 2


async def test_a_repeated_task_that_fails_runs_at_its_next_time(engine: AsyncEngine) -> None:
    clock, work = Clock(), Recorder(fail=1)
    jobs = SqlJobs(engine, clock=clock)
    jobs.add(Task("scan", work, retries=0), every=60)
    await jobs.begin()
    await jobs.run_due()
    assert await jobs.failed() == []
    clock.now += 60
    await jobs.run_due()
    assert len(work.ran) == 1


async def test_two_processes_take_each_job_once(engine: AsyncEngine) -> None:
    clock = Clock()
    ran: list[int] = []

    async def work(arguments: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # the other process gets a turn mid-batch
        ran.append(arguments["n"])

    processes = [SqlJobs(engine, clock=clock) for _ in range(3)]
    for jobs in processes:
        jobs.add(Task("count", work))
    for n in range(60):
        await processes[0].defer("count", {"n": n})
    while sum(await asyncio.gather(*(jobs.run_due() for jobs in processes))):
        pass
    assert sorted(ran) == list(range(60))


async def test_a_job_of_a_task_this_process_does_not_know_is_left_for_another(
    engine: AsyncEngine,
) -> None:
    clock, work = Clock(), Recorder()
    old, new = SqlJobs(engine, clock=clock), SqlJobs(engine, clock=clock)
    new.add(Task("new_task", work))
    await new.defer("new_task", {"x": 1})
    assert await old.run_due() == 0
    assert await new.run_due() == 1


async def test_the_worker_runs_a_job_deferred_while_it_waits(engine: AsyncEngine) -> None:
    done = asyncio.Event()

    async def work(arguments: dict[str, Any]) -> None:
        done.set()

    jobs = SqlJobs(engine, poll=3600)
    jobs.add(Task("ping", work))
    await jobs.start()
    try:
        await asyncio.sleep(0)
        await jobs.defer("ping")
        await asyncio.wait_for(done.wait(), 60)
    finally:
        await jobs.close()


async def test_closing_waits_for_the_running_job(engine: AsyncEngine) -> None:
    started, finish, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow(arguments: dict[str, Any]) -> None:
        started.set()
        await finish.wait()
        finished.set()

    jobs = SqlJobs(engine)
    jobs.add(Task("slow", slow))
    await jobs.defer("slow")
    await jobs.start()
    await asyncio.wait_for(started.wait(), 60)
    closing = asyncio.create_task(jobs.close())
    await asyncio.sleep(0.1)
    assert not closing.done()  # waits for the job, within its grace
    finish.set()
    await asyncio.wait_for(closing, 60)
    assert finished.is_set() and await jobs.waiting() == 0


async def test_closing_gives_a_running_job_back(engine: AsyncEngine) -> None:
    started = asyncio.Event()

    async def stuck(arguments: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()

    clock = Clock()
    jobs = SqlJobs(engine, clock=clock, grace=0.1)
    jobs.add(Task("stuck", stuck))
    await jobs.defer("stuck", {"n": 1})
    await jobs.start()
    await asyncio.wait_for(started.wait(), 60)
    await jobs.close()
    after, work = SqlJobs(engine, clock=clock), Recorder()
    after.add(Task("stuck", work))
    assert await after.run_due() == 1  # at once: no lease to wait out
    assert work.ran == [{"n": 1}]

"""A worker killed mid-job (kill -9) loses nothing: the job it held runs again once its
lease runs out, and the jobs it had scheduled run at their time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from parlez.console.database import ConsoleDatabase
from parlez.jobs import SqlJobs, Task
from parlez.jobs.sql_jobs import LEASE_SECONDS
from parlez.stores.sql import SQLTrackerStore
from tests.conftest import REPO
from tests.jobs.conftest import Clock

pytestmark = pytest.mark.anyio

WORKER = """
import asyncio, sys
from pathlib import Path
from parlez.console.database import ConsoleDatabase
from parlez.jobs import SqlJobs, Task
from parlez.stores.sql import SQLTrackerStore

url, marker = sys.argv[1], Path(sys.argv[2])

async def stuck(arguments):
    marker.write_text(str(arguments["n"]))
    await asyncio.Event().wait()  # killed here

async def main():
    store = SQLTrackerStore(url)
    await ConsoleDatabase(store.engine).upgrade()
    jobs = SqlJobs(store.engine)
    jobs.add(Task("send", stuck))
    await jobs.defer("send", {"n": 1})
    await jobs.defer("send", {"n": 2}, at=jobs.clock() + 120)
    await jobs.start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


def wait_for(path: Path, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the worker never started its job"
        time.sleep(0.05)


async def test_a_job_held_by_a_killed_worker_runs_again_and_none_is_lost(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}"
    marker = tmp_path / "started"
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(marker)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(marker, worker)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(60)
    assert marker.read_text() == "1"

    store = SQLTrackerStore(url)
    await ConsoleDatabase(store.engine).upgrade()
    ran: list[int] = []

    async def send(arguments: dict[str, Any]) -> None:
        ran.append(arguments["n"])

    clock = Clock(time.time())
    restarted = SqlJobs(store.engine, clock=clock)
    restarted.add(Task("send", send))
    assert await restarted.run_due() == 0  # the killed worker's lease still holds job 1
    clock.now += LEASE_SECONDS + 1
    while await restarted.run_due():
        pass
    assert sorted(ran) == [1, 2]
    assert await restarted.waiting() == 0
    await store.close()

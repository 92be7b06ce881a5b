"""The project's own repeated work (`jobs:` in endpoints.yml): its functions imported from
the project folder, run on the job runner every so often, and a broken entry named at its
line before the server starts."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from parlez.endpoints import Endpoints
from parlez.jobs import SqlJobs
from parlez.jobs.project_jobs import ProjectJobError, project_jobs
from tests.conftest import REPO, write
from tests.jobs.conftest import Clock


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project with a package of its own (named for the test, so that no other test's
    module of the same name is found first) whose functions write down each run."""
    package = f"upkeep_{uuid.uuid4().hex[:8]}"
    write(
        tmp_path / package / "__init__.py",
        f"""
        import asyncio
        from pathlib import Path

        RUNS = Path({str(tmp_path / "runs.txt")!r})

        def tidy():
            with RUNS.open("a") as f:
                f.write("tidy\\n")

        async def sync_crm():
            await asyncio.sleep(0)
            with RUNS.open("a") as f:
                f.write("sync_crm\\n")

        def broken():
            with RUNS.open("a") as f:
                f.write("broken\\n")
            raise ConnectionError("the calendar is away")
        """,
    )
    (tmp_path / "package.txt").write_text(package)
    yield tmp_path
    sys.modules.pop(package, None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def endpoints(project: Path, jobs: str) -> Endpoints:
    package = (project / "package.txt").read_text()
    write(project / "endpoints.yml", jobs.replace("PKG", package))
    return Endpoints.load(project / "endpoints.yml")


def runs(project: Path) -> list[str]:
    path = project / "runs.txt"
    return path.read_text().split() if path.exists() else []


@pytest.mark.anyio
async def test_each_job_runs_every_period_a_plain_function_and_an_async_one(
    project: Path, engine: AsyncEngine
) -> None:
    found = project_jobs(
        endpoints(
            project,
            """
            jobs:
              tidy_up:
                run: PKG.tidy
                every: 60
              crm:
                run: PKG.sync_crm
                every: 300
            """,
        ).jobs,
        project,
    )
    assert [(job.name, job.every) for job in found] == [("tidy_up", 60.0), ("crm", 300.0)]
    clock = Clock()
    jobs = SqlJobs(engine, clock=clock)
    for job in found:
        jobs.add(job.task(), every=job.every)
    await jobs.begin()
    await jobs.run_due()
    assert sorted(runs(project)) == ["sync_crm", "tidy"]
    clock.now += 60
    await jobs.run_due()
    assert sorted(runs(project)) == ["sync_crm", "tidy", "tidy"]


@pytest.mark.anyio
async def test_a_job_that_raises_is_logged_and_runs_again_at_its_next_time(
    project: Path, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    (job,) = project_jobs(
        endpoints(project, "jobs:\n  retry:\n    run: PKG.broken\n    every: 60\n").jobs, project
    )
    clock = Clock()
    jobs = SqlJobs(engine, clock=clock)
    jobs.add(job.task(), every=job.every)
    await jobs.begin()
    await jobs.run_due()
    assert "the calendar is away" in caplog.text
    clock.now += 60
    await jobs.run_due()
    assert runs(project) == ["broken", "broken"]
    assert await jobs.failed() == []


@pytest.mark.parametrize(
    ("entry", "line", "message"),
    [
        ("  retry: PKG.tidy\n", 2, "must be a mapping"),
        ("  retry:\n    run: PKG.tidy\n", 2, "needs 'every:' in seconds"),
        ("  retry:\n    run: PKG.tidy\n    every: 0.1\n", 4, "at least 1"),
        ("  retry:\n    run: PKG.tidy\n    every: often\n", 4, "not 'often'"),
        ("  retry:\n    run: tidy\n    every: 60\n", 3, "as module.function"),
        ("  retry:\n    run: nowhere_at_all.tidy\n    every: 60\n", 3, "cannot be imported"),
        ("  retry:\n    run: PKG.missing\n    every: 60\n", 3, "has no function 'missing'"),
    ],
)
def test_a_wrong_entry_is_named_with_its_file_and_line(
    project: Path, entry: str, line: int, message: str
) -> None:
    with pytest.raises(ProjectJobError) as raised:
        project_jobs(endpoints(project, "jobs:\n" + entry).jobs, project)
    assert raised.value.code == "P334"
    assert message in raised.value.message
    assert raised.value.where is not None
    assert (Path(raised.value.where.path).name, raised.value.where.line) == (
        "endpoints.yml",
        line,
    )


def test_the_assistant_retries_its_outbox_every_five_minutes() -> None:
    (job,) = project_jobs(Endpoints.load(REPO / "endpoints.yml").jobs, REPO)
    from actions.retry import retry_all

    assert (job.name, job.function, job.every) == ("retry_outbox", retry_all, 300.0)

"""Work done later or again: a job is a named task with its arguments, run at a time, retried
when it fails, and run by one server process alone however many share the database.

On PostgreSQL, procrastinate runs them (`ProcrastinateJobs`, the `postgres` extra); on SQLite,
`SqlJobs`, in the server's process (docs/deploy.md#jobs).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from parlez.jobs.runner import JobRunner, Task
from parlez.jobs.sql_jobs import SqlJobs

if TYPE_CHECKING:
    from parlez.console.database import ConsoleDatabase

logger = logging.getLogger(__name__)

__all__ = ["JobRunner", "SqlJobs", "Task", "job_runner"]


def job_runner(database: ConsoleDatabase) -> JobRunner:
    """The jobs of the server whose console tables are in `database`: procrastinate's on
    PostgreSQL (SqlJobs there too, with a warning, when it is not installed), SqlJobs on
    SQLite."""
    if database.engine.dialect.name == "postgresql":
        try:
            from parlez.jobs.procrastinate_jobs import ProcrastinateJobs
        except ImportError:
            logger.warning(
                "procrastinate is not installed (pip install 'parlez[postgres]'): the jobs "
                "run from the console's own table"
            )
        else:
            return ProcrastinateJobs(database.engine.url)
    return SqlJobs(database.engine, prepare=database.upgrade)

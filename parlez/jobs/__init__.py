"""Work done later or again: a job is a named task with its arguments, run at a time, retried
when it fails, and run by one server process alone however many share the database.

`SqlJobs` keeps the jobs in the conversations' SQL database (docs/jobs.md).
"""

from parlez.jobs.runner import JobRunner, Task
from parlez.jobs.sql_jobs import SqlJobs

__all__ = ["JobRunner", "SqlJobs", "Task"]

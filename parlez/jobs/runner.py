"""What every job runner offers: tasks by name, jobs deferred to a time (once per key),
tasks repeated every so often, and a worker that runs what is due."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

#: what a task is given: its job's arguments (plain JSON values)
TaskFunction = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Task:
    name: str
    run: TaskFunction
    #: tries after the first, when it raises; then the job is kept as failed
    retries: int = 5
    #: seconds before the first retry, doubled each time (capped at an hour)
    backoff: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds before try `attempt + 1` (attempt counts from 1)."""
        return float(min(self.backoff * 2 ** (attempt - 1), 3600.0))


class JobRunner(Protocol):
    def add(self, task: Task, every: float | None = None) -> None:
        """Know `task`; with `every`, run it (with no arguments) every so many seconds,
        once across the server's processes."""

    async def defer(
        self,
        task: str,
        arguments: dict[str, Any] | None = None,
        at: float | None = None,
        key: str | None = None,
    ) -> bool:
        """Run `task` at `at` (now when None). With `key`, nothing is deferred while a job
        with the same key waits or runs. Whether a job was deferred."""

    async def start(self) -> None:
        """Start running due jobs in this process."""

    async def close(self) -> None:
        """Stop taking jobs; a job running now is given back, to run again."""

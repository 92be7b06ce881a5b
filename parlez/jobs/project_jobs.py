"""The project's own repeated work, `jobs:` in endpoints.yml: a function of the project's
Python code that one server process runs every so often, however many replicas there are,
on the same job runner as the console's work.

    jobs:
      retry_outbox:                      # a name of your choosing
        run: actions.retry.retry_all     # module.function, imported from the project folder
        every: 300                       # seconds

The function takes no arguments. A plain function runs in a worker thread (it may block on a
calendar, a mail server or a CRM); an `async def` runs on the server's loop. When it raises,
the error is logged and it runs again at its next time.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parlez.exceptions import Location, ParlezError
from parlez.io.yaml import where
from parlez.jobs.runner import Task

#: the shortest period a job may ask for: a repeated job is looked for about every second
MIN_EVERY = 1.0


class ProjectJobError(ParlezError):
    code = "P334"


@dataclass(frozen=True)
class ProjectJob:
    name: str
    function: Callable[[], Any]
    every: float

    def task(self) -> Task:
        function = self.function

        async def run(_: dict[str, Any]) -> None:
            if inspect.iscoroutinefunction(function):
                await function()
            else:
                await asyncio.to_thread(function)

        # No retries: the next period is the retry, and two tries must not overlap.
        return Task(f"project:{self.name}", run, retries=0)


def project_jobs(raw: dict[str, Any] | None, project: Path) -> list[ProjectJob]:
    """The jobs endpoints.yml's `jobs:` names, their functions imported from `project`; a
    ProjectJobError at the line of the first one that is wrong."""
    if not raw:
        return []
    found = []
    for name, spec in raw.items():
        at = where(raw, name)
        if not isinstance(spec, dict):
            raise ProjectJobError(
                f"the job '{name}' must be a mapping with 'run:' and 'every:'", at
            )
        every = spec.get("every")
        if isinstance(every, bool) or not isinstance(every, int | float) or every < MIN_EVERY:
            raise ProjectJobError(
                f"the job '{name}' needs 'every:' in seconds, at least {MIN_EVERY:g}, "
                f"not {every!r}",
                where(spec, "every", value=True) if "every" in spec else at,
            )
        found.append(ProjectJob(str(name), _function(name, spec, project, at), float(every)))
    return found


def _function(
    name: str, spec: dict[str, Any], project: Path, at: Location | None
) -> Callable[[], Any]:
    path = spec.get("run")
    module_name, _, attribute = str(path or "").rpartition(".")
    if not isinstance(path, str) or not module_name:
        raise ProjectJobError(
            f"the job '{name}' needs 'run:' naming a function as module.function, not {path!r}",
            where(spec, "run", value=True) if "run" in spec else at,
        )
    # The project's own packages (`actions`) are imported from its folder, as actions are.
    folder = str(project.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ProjectJobError(
            f"the job '{name}' runs {path}, but '{module_name}' cannot be imported: {error}",
            where(spec, "run", value=True),
            hint="run parlez in the project folder, or install the package",
        ) from error
    function: Callable[[], Any] | None = getattr(module, attribute, None)
    if not callable(function):
        raise ProjectJobError(
            f"the job '{name}' runs {path}, but '{module_name}' has no function '{attribute}'",
            where(spec, "run", value=True),
        )
    return function

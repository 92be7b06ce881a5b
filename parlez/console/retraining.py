"""Retraining from the console: the project trained in a child process, its test stories run
against the new model, and the model swapped in only if they pass.

The server keeps answering all along: training runs in a process of its own
(`train_in_subprocess`, which reuses the parts whose data did not change, as `parlez train`
does), the new agent is loaded off the event loop on the same stores, and the swap is one
assignment, so a message being handled finishes on the agent it started with. A model whose
stories fail is kept aside, and a person may still put it in ("use it anyway"), as they may
put back any earlier model of the models folder (one-click rollback).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from parlez.evaluation.stories import evaluate_stories
from parlez.exceptions import ParlezError
from parlez.progress import ProgressFile, Step
from parlez.project import Project
from parlez.server.state import ServerState
from parlez.training import train_in_subprocess

logger = logging.getLogger(__name__)

#: how often (seconds) the training's steps are read while it runs
PROGRESS_EVERY = 0.5


class Stage:
    TRAINING = "training"
    TESTING = "testing"
    DONE = "done"
    FAILED = "failed"


@dataclass
class Retraining:
    """One retraining, as the models page shows it while it runs and after."""

    by: str
    started_at: float = field(default_factory=time.time)
    stage: str = Stage.TRAINING
    finished_at: float | None = None
    #: the trained model, once there is one
    archive: Path | None = None
    #: why training or testing failed
    problem: str | None = None
    stories: int = 0
    #: the test stories the new model got wrong
    failed: list[str] = field(default_factory=list)
    #: the new model answers customers now
    swapped: bool = False
    #: where each part of the training is (the NLU's component, the policy being trained)
    steps: list[Step] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.stage in (Stage.TRAINING, Stage.TESTING)

    @property
    def seconds(self) -> float:
        return (self.finished_at or time.time()) - self.started_at


async def retrain(state: ServerState, job: Retraining) -> None:
    """Train, test, and swap if the test stories pass; every outcome is written on `job`."""
    try:
        state.training_jobs += 1
        with tempfile.TemporaryDirectory(prefix="parlez-retraining-") as folder:
            told = ProgressFile(Path(folder) / "progress.jsonl")
            try:
                training = asyncio.wrap_future(
                    train_in_subprocess(state.project, state.models, False, told.path)
                )
                while not training.done():
                    await asyncio.wait({training}, timeout=PROGRESS_EVERY)
                    job.steps = told.latest()
                archive, problem = training.result()
            finally:
                state.training_jobs -= 1
        if archive is None:
            job.stage, job.problem = Stage.FAILED, problem or "training failed"
            return
        job.archive, job.stage = archive, Stage.TESTING
        agent = await asyncio.get_running_loop().run_in_executor(None, state.load_model, archive)
        stories = Project(state.project).test_stories
        evaluation = await evaluate_stories(agent, stories)
        job.stories = len(evaluation.stories)
        job.failed = [story.name for story in evaluation.failed]
        if not job.failed:
            state.agent = agent  # one assignment: a message in flight keeps its agent
            job.swapped = True
            logger.info("retrained by %s: '%s' answers now", job.by, archive.name)
        job.stage = Stage.DONE
    except asyncio.CancelledError:
        job.stage, job.problem = Stage.FAILED, "the server stopped before it ended"
        raise
    except ParlezError as error:
        job.stage, job.problem = Stage.FAILED, str(error)
    except Exception as error:  # a broken model must not take the server down
        logger.exception("retraining failed")
        job.stage, job.problem = Stage.FAILED, f"{type(error).__name__}: {error}"
    finally:
        job.finished_at = time.time()


@dataclass(frozen=True)
class Model:
    """A model of the models folder, as the history lists it."""

    name: str
    trained_at: float
    size: int
    serving: bool


def history(state: ServerState, limit: int = 20) -> list[Model]:
    """The models folder's archives, newest first, and which one answers now."""
    serving = state.agent.model.resolve() if state.agent and state.agent.model else None
    archives = sorted(state.models.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [
        Model(p.name, p.stat().st_mtime, p.stat().st_size, p.resolve() == serving)
        for p in archives[:limit]
    ]


def archive_named(state: ServerState, name: str) -> Path | None:
    """The archive `name` of the models folder (never a path elsewhere)."""
    path = (state.models / name).resolve()
    if path.parent != state.models.resolve() or not path.name.endswith(".tar.gz"):
        return None
    return path if path.is_file() else None

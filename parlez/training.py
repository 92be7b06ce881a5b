"""Training: build the model archive from a project, reusing parts whose inputs did not change."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from parlez import __version__
from parlez.config import Config
from parlez.core.policies.ensemble import PolicyEnsemble
from parlez.core.training_trackers import TrainingTracker, rule_trackers, story_trackers
from parlez.domain import Domain
from parlez.events import Event, UserUttered
from parlez.exceptions import Location, ParlezError
from parlez.knowledge.index import KnowledgeIndex, index_knowledge
from parlez.model import (
    CORE_PART,
    DOMAIN_FILE,
    NLU_PART,
    PART_FORMAT,
    Metadata,
    ModelError,
    archive_name,
    fingerprint,
    latest_model,
    opened,
    read_metadata,
    write_archive,
)
from parlez.nlu.encoder_cache import ENCODER_WEIGHTS
from parlez.nlu.pipeline import Pipeline
from parlez.nlu.progress import listen
from parlez.progress import DONE, REUSED, ProgressFile, StepProgress, TrainingProgress
from parlez.project import Project
from parlez.training_data.nlu_yaml import write_nlu_yaml
from parlez.training_data.stories import StoryBlock
from parlez.training_data.training_data import TrainingData


@dataclass
class TrainingResult:
    archive: Path
    reused: list[str]
    trained: list[str]
    seconds: float
    #: the knowledge base's index, brought up to date beside the models (None: no KB)
    knowledge: KnowledgeIndex | None = None


def nlu_fingerprint(config: Config, data: TrainingData) -> str:
    """What the NLU part depends on: the language, the pipeline, the NLU data, and the
    version of parlez, of the part's layout and of the sentence encoder's weights (a newer
    one may train a better model from the same inputs, save it differently, or give other
    features)."""
    return fingerprint(
        __version__,
        PART_FORMAT,
        ENCODER_WEIGHTS,
        config.language,
        [c.to_dict() for c in config.pipeline],
        write_nlu_yaml(data),
    )


def _reuse(models: Path, part: str, wanted: str, into: Path | None) -> bool:
    """Copy `part` from the newest model (into `into`; None: only say whether it could)
    when it was trained from the same inputs."""
    previous = latest_model(models)
    if previous is None:
        return False
    try:
        with opened(previous) as folder:
            if (
                read_metadata(folder).fingerprints.get(part) != wanted
                or not (folder / part).is_dir()
            ):
                return False
            if into is not None:
                shutil.copytree(folder / part, into / part)
            return True
    except ModelError:  # an unreadable old model is simply not reused
        return False


def train_nlu(
    project: Project,
    models: Path,
    *,
    force: bool = False,
    fixed_name: str | None = None,
    progress: TrainingProgress | None = None,
) -> TrainingResult:
    """Train the NLU pipeline into `models/nlu-<timestamp>-<assistant>.tar.gz`, each step
    told to `progress`."""
    started = time.perf_counter()
    config, data = project.config, project.nlu_training_data()
    wanted = nlu_fingerprint(config, data)
    metadata = Metadata(
        assistant_id=config.assistant_id, language=config.language, config=config.to_dict()
    )
    metadata.fingerprints["nlu"] = wanted
    with tempfile.TemporaryDirectory(prefix="parlez-train-") as work:
        folder = Path(work)
        if not force and _reuse(models, "nlu", wanted, folder):
            reused, trained = ["nlu"], []
            if progress is not None:
                progress.tell("nlu", REUSED)
        else:
            part_started = time.perf_counter()
            steps = progress.for_part("nlu") if progress is not None else None
            Pipeline.from_config(config.pipeline, config.language).train(data, steps).persist(
                folder / NLU_PART
            )
            if progress is not None:
                progress.tell("nlu", DONE)
            metadata.training_seconds["nlu"] = round(time.perf_counter() - part_started, 3)
            reused, trained = [], ["nlu"]
        name = fixed_name or archive_name(config.assistant_id, "nlu-", models)
        if not name.endswith(".tar.gz"):
            name += ".tar.gz"
        archive = write_archive(folder, metadata, models / name)
    return TrainingResult(archive, reused, trained, time.perf_counter() - started)


def load_nlu(archive: Path) -> Pipeline:
    with opened(archive) as folder:
        return Pipeline.load(folder / NLU_PART)


def _blocks_data(blocks: list[StoryBlock]) -> list[object]:
    """Stories and rules as plain data for the fingerprint (timestamps left out)."""

    def plain(event: Event) -> dict[str, object]:
        data = event.to_dict()
        data.pop("timestamp", None)
        return data

    return [
        {
            "kind": block.kind,
            "name": block.name,
            "condition": [plain(e) for e in block.condition],
            "conversation_start": block.conversation_start,
            "wait_for_user_input": block.wait_for_user_input,
            "steps": [
                {
                    "events": [plain(e) for e in step.events],
                    "or": [plain(e) for e in step.alternatives],
                    "checkpoint": step.checkpoint,
                    # Only where there is a checkpoint, so that only the stories whose
                    # expansion changed (loops bounded, conditions kept) are trained again.
                    **({"conditions": step.conditions} if step.checkpoint is not None else {}),
                }
                for step in block.steps
            ],
        }
        for block in blocks
    ]


def core_fingerprint(
    config: Config, domain: Domain, stories: list[StoryBlock], rules: list[StoryBlock]
) -> str:
    """What the dialogue part depends on: the policies, the domain, the stories and rules,
    and the version of parlez. What the responses say is left out (their names are actions,
    and stay in): a reworded response reuses the trained policies, as in Rasa, and only the
    model's copy of the domain changes (`train`). Like the NLU's, it holds the part's
    layout (`PART_FORMAT`)."""
    shape = domain.to_dict()
    shape["responses"] = sorted(shape.get("responses") or {})
    return fingerprint(
        __version__,
        PART_FORMAT,
        [c.to_dict() for c in config.policies],
        shape,
        _blocks_data(stories),
        _blocks_data(rules),
    )


def train_core_into(project: Project, folder: Path, progress: StepProgress | None = None) -> None:
    domain = project.domain
    trackers = story_trackers(project.stories, domain) + rule_trackers(project.rules)
    ensemble = PolicyEnsemble.from_config(project.config.policies)
    if _has_user_text(trackers) and (folder / NLU_PART).is_dir():
        # End-to-end stories' user text is featurized by the pipeline trained with them.
        ensemble.use_nlu(Pipeline.load(folder / NLU_PART))
    ensemble.train(trackers, domain, progress)
    ensemble.persist(folder / CORE_PART)
    write_domain(domain, folder)


def write_domain(domain: Domain, folder: Path) -> None:
    """The model's copy of the domain, which its responses are said from."""
    (folder / CORE_PART / DOMAIN_FILE).write_text(
        json.dumps(domain.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _has_user_text(trackers: Sequence[TrainingTracker]) -> bool:
    return any(
        isinstance(e, UserUttered) and e.text and not e.intent_name
        for t in trackers
        for e in t.events
    )


def train(
    project: Project,
    models: Path,
    *,
    force: bool = False,
    fixed_name: str | None = None,
    parts: tuple[str, ...] = ("nlu", "core"),
    progress: TrainingProgress | None = None,
) -> TrainingResult:
    """Train the assistant into `models/<timestamp>-<assistant>.tar.gz`: each part is copied
    from the newest model when its inputs did not change, and trained otherwise. Each step
    is told to `progress` as it starts."""
    started = time.perf_counter()
    config = project.config
    metadata = Metadata(
        assistant_id=config.assistant_id, language=config.language, config=config.to_dict()
    )
    wanted = _fingerprints(project, parts)
    metadata.fingerprints.update(wanted)
    reused: list[str] = []
    trained: list[str] = []
    with tempfile.TemporaryDirectory(prefix="parlez-train-") as work:
        folder = Path(work)
        for part, fingerprint_ in wanted.items():
            if not force and _reuse(models, part, fingerprint_, folder):
                if progress is not None:
                    progress.tell(part, REUSED)
                reused.append(part)
                if part == "core":
                    write_domain(project.domain, folder)  # the responses as they are now
                continue
            part_started = time.perf_counter()
            steps = progress.for_part(part) if progress is not None else None
            if part == "nlu":
                Pipeline.from_config(config.pipeline, config.language).train(
                    project.nlu_training_data(), steps
                ).persist(folder / NLU_PART)
            else:
                train_core_into(project, folder, steps)
            metadata.training_seconds[part] = round(time.perf_counter() - part_started, 3)
            if progress is not None:
                progress.tell(part, DONE)
            trained.append(part)
        prefix = "" if len(parts) == 2 else f"{parts[0]}-"
        name = fixed_name or archive_name(config.assistant_id, prefix, models)
        if not name.endswith(".tar.gz"):
            name += ".tar.gz"
        archive = write_archive(folder, metadata, models / name)
    # The knowledge base is searched by the NLU (its router) and the answer action alike:
    # a whole assistant is not ready until its index is.
    knowledge = None
    if len(parts) == 2:
        if progress is not None:
            progress.tell("knowledge", "indexing")
        knowledge = index_knowledge(project.root, models)
        if progress is not None:
            progress.tell("knowledge", DONE)
    return TrainingResult(archive, reused, trained, time.perf_counter() - started, knowledge)


def _fingerprints(project: Project, parts: tuple[str, ...]) -> dict[str, str]:
    """What each part is trained from, as the model's metadata records it."""
    config = project.config
    wanted: dict[str, str] = {}
    if "nlu" in parts:
        wanted["nlu"] = nlu_fingerprint(config, project.nlu_training_data())
    if "core" in parts:
        wanted["core"] = core_fingerprint(config, project.domain, project.stories, project.rules)
        if "nlu" in wanted and _has_user_text(
            story_trackers(project.stories, project.domain) + rule_trackers(project.rules)
        ):
            # End-to-end stories are featurized by the NLU pipeline: it changing retrains them.
            wanted["core"] = fingerprint([wanted["core"], wanted["nlu"]])
    return wanted


def stale_parts(
    project: Project, models: Path, parts: tuple[str, ...] = ("nlu", "core")
) -> list[str]:
    """The parts `train` would train rather than reuse from the newest model of `models`
    (Rasa's `train --dry-run`): nothing is trained or written."""
    return [
        part
        for part, wanted in _fingerprints(project, parts).items()
        if not _reuse(models, part, wanted, None)
    ]


def train_folder(
    project: Path, models: Path, force: bool, progress: Path | None = None
) -> tuple[Path | None, str | None]:
    """`train` for another process (the server's `POST /model/train`, the console's
    retraining): the archive, or the error's message, after the file and line it is about
    relative to `project` (an exception with a hint may not survive the trip between
    processes). Its steps are told in the file `progress` (`parlez.progress.ProgressFile`)."""
    told = ProgressFile(progress) if progress is not None else None
    try:
        if told is None:
            return train(Project(project), models, force=force).archive, None
        with listen(lambda component, epoch, epochs, _: told.epoch(component, epoch, epochs)):
            return train(Project(project), models, force=force, progress=told).archive, None
    except ParlezError as error:
        where = error.where
        if where is None or where.path is None:
            return None, error.message
        path = Path(where.path)
        if path.is_absolute() and path.is_relative_to(project.resolve()):
            path = path.relative_to(project.resolve())
        shown = Location(str(path), where.line, where.column)
        return None, f"{shown}: {error.message}"


def train_in_subprocess(
    project: Path, models: Path, force: bool, progress: Path | None = None
) -> Future[tuple[Path | None, str | None]]:
    """Train in a process of its own. A server training in one of its threads would run
    torch on two threads ever after, and its conversations' models slower (see
    `parlez.inference`); a child process also keeps a crash in training from the server."""
    try:
        return trainer().submit(train_folder, project, models, force, progress)
    except BrokenProcessPool:
        # The trainer died (killed for memory, crashed): one dead trainer must not leave the
        # server unable to train until it restarts.
        _forget_trainer()
        return trainer().submit(train_folder, project, models, force, progress)


def trainer() -> ProcessPoolExecutor:
    """The process that trains for this one, started on first use."""
    global _TRAINER
    if _TRAINER is None:
        _TRAINER = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )
    return _TRAINER


_TRAINER: ProcessPoolExecutor | None = None


def _forget_trainer() -> None:
    global _TRAINER
    if _TRAINER is not None:
        _TRAINER.shutdown(wait=False, cancel_futures=True)
    _TRAINER = None


def exit_with_parent(parent: int) -> None:
    """In a trainer process: exit once the process that started it is gone (killed with
    -9, crashed), rather than wait for work for ever (idle trainers of killed servers were
    found hours later)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()

"""Training: build the model archive from a project, reusing parts whose inputs did not change."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from parlez.config import Config
from parlez.model import (
    Metadata,
    ModelError,
    archive_name,
    fingerprint,
    latest_model,
    opened,
    read_metadata,
    write_archive,
)
from parlez.nlu.pipeline import Pipeline
from parlez.project import Project
from parlez.training_data.nlu_yaml import write_nlu_yaml
from parlez.training_data.training_data import TrainingData


@dataclass
class TrainingResult:
    archive: Path
    reused: list[str]
    trained: list[str]
    seconds: float


def nlu_fingerprint(config: Config, data: TrainingData) -> str:
    """What the NLU part depends on: the language, the pipeline and the NLU data."""
    return fingerprint(
        config.language, [c.to_dict() for c in config.pipeline], write_nlu_yaml(data)
    )


def _reuse(models: Path, part: str, wanted: str, into: Path) -> bool:
    """Copy `part` from the newest model when it was trained from the same inputs."""
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
            shutil.copytree(folder / part, into / part)
            return True
    except ModelError:  # an unreadable old model is simply not reused
        return False


def train_nlu(
    project: Project, models: Path, *, force: bool = False, fixed_name: str | None = None
) -> TrainingResult:
    """Train the NLU pipeline into `models/nlu-<timestamp>-<assistant>.tar.gz`."""
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
        else:
            part_started = time.perf_counter()
            Pipeline.from_config(config.pipeline, config.language).train(data).persist(
                folder / "nlu"
            )
            metadata.training_seconds["nlu"] = round(time.perf_counter() - part_started, 3)
            reused, trained = [], ["nlu"]
        name = fixed_name or archive_name(config.assistant_id, prefix="nlu-")
        if not name.endswith(".tar.gz"):
            name += ".tar.gz"
        archive = write_archive(folder, metadata, models / name)
    return TrainingResult(archive, reused, trained, time.perf_counter() - started)


def load_nlu(archive: Path) -> Pipeline:
    with opened(archive) as folder:
        return Pipeline.load(folder / "nlu")

"""A training tells each of its steps as it starts: every NLU component and every policy in
the order they train, numbered, then each part done or reused; the file a child process
writes them to is read back by the process waiting for it."""

from __future__ import annotations

import json
from pathlib import Path

from parlez.progress import ProgressFile, Step
from parlez.project import Project
from parlez.training import train


def told(path: Path) -> list[tuple[str, str, int, int]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(line["part"], line["step"], line["number"], line["total"]) for line in lines]


def test_every_component_and_policy_is_told_in_order_then_reuse(
    small_project: Path, tmp_path: Path
) -> None:
    progress = ProgressFile(tmp_path / "progress.jsonl")
    train(Project(small_project), tmp_path / "models", progress=progress)
    assert told(progress.path) == [
        ("nlu", "WhitespaceTokenizer", 1, 5),
        ("nlu", "CountVectorsFeaturizer", 2, 5),
        ("nlu", "LogisticRegressionClassifier", 3, 5),
        ("nlu", "RegexEntityExtractor", 4, 5),
        ("nlu", "CRFEntityExtractor", 5, 5),
        ("nlu", "done", 0, 0),
        ("core", "RulePolicy", 1, 1),
        ("core", "done", 0, 0),
        ("knowledge", "indexing", 0, 0),
        ("knowledge", "done", 0, 0),
    ]
    again = ProgressFile(tmp_path / "again.jsonl")
    train(Project(small_project), tmp_path / "models", progress=again)
    assert [(s.part, s.step) for s in again.latest()] == [
        ("nlu", "reused"),
        ("core", "reused"),
        ("knowledge", "done"),
    ]


def test_a_half_written_last_line_is_read_as_not_there_yet(tmp_path: Path) -> None:
    progress = ProgressFile(tmp_path / "progress.jsonl")
    progress.tell("nlu", "WhitespaceTokenizer", 1, 3)
    with progress.path.open("a", encoding="utf-8") as out:
        out.write('{"part": "nlu", "step": "Count')
    (step,) = progress.latest()
    assert (step.part, step.step, step.number, step.total) == ("nlu", "WhitespaceTokenizer", 1, 3)
    assert ProgressFile(tmp_path / "none.jsonl").latest() == []
    assert isinstance(step, Step)


def test_a_progress_file_that_went_away_never_stops_the_training(tmp_path: Path) -> None:
    """The server that waited stopped and took its folder with it: the steps are lost, the
    training is not."""
    progress = ProgressFile(tmp_path / "gone" / "progress.jsonl")
    progress.tell("nlu", "WhitespaceTokenizer", 1, 3)
    assert progress.latest() == []


def test_the_epochs_of_the_step_under_way_are_written_for_the_console(tmp_path: Path) -> None:
    """A retraining's page shows "DIETClassifier, 7 of 11: epoch 41 of 100"."""
    progress = ProgressFile(tmp_path / "progress.jsonl")
    progress.tell("nlu", "DIETClassifier", 7, 11)
    progress.epoch("DIETClassifier", 41, 100)
    progress.epoch("TEDPolicy", 3, 100)  # not the step under way: not told
    (step,) = progress.latest()
    assert (step.step, step.number, step.total, step.epoch, step.epochs) == (
        "DIETClassifier",
        7,
        11,
        41,
        100,
    )

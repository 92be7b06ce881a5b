"""Training a whole assistant brings its knowledge base's index up to date with the rest;
the process a server trains in does not outlive the server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from parlez.model import archive_name
from parlez.project import Project
from parlez.training import train, train_in_subprocess, train_nlu, trainer
from tests.conftest import write

FAQ = """
faq:
  - id: parking
    question: Is there parking nearby?
    answer: Yes, the Maple Street car park.
"""


def _with_kb(small_project: Path, root: Path) -> Path:
    shutil.copytree(small_project, root)
    write(root / "data" / "kb" / "faq.yml", FAQ)
    return root


def test_a_trained_assistant_has_its_knowledge_base_indexed(
    small_project: Path, tmp_path: Path
) -> None:
    root = _with_kb(small_project, tmp_path / "project")
    result = train(Project(root), root / "models")
    assert result.knowledge is not None and len(result.knowledge.passages) == 1
    assert (root / "models" / "kb-index" / "passages.json").is_file()


def test_the_nlu_alone_and_a_project_without_a_knowledge_base_index_nothing(
    small_project: Path, tmp_path: Path
) -> None:
    root = _with_kb(small_project, tmp_path / "project")
    assert train_nlu(Project(root), root / "models").knowledge is None
    assert not (root / "models" / "kb-index").exists()
    plain = tmp_path / "plain"
    shutil.copytree(small_project, plain)
    assert train(Project(plain), plain / "models").knowledge is None


def test_a_reworded_response_reuses_the_trained_parts_and_the_new_model_says_it(
    small_project: Path, tmp_path: Path
) -> None:
    """As in Rasa, what a response says is not what the policies learn from: the console's
    responses editor is followed by a retraining that trains nothing, and the new model
    says the new words."""
    import asyncio

    from parlez.agent import Agent

    root = tmp_path / "project"
    shutil.copytree(small_project, root)
    train(Project(root), root / "models")
    domain = root / "domain.yml"
    domain.write_text(
        domain.read_text().replace("Hello! Where are you?", "Hi! Where are you?"),
        encoding="utf-8",
    )
    again = train(Project(root), root / "models")
    assert set(again.reused) == {"nlu", "core"} and not again.trained
    said = asyncio.run(Agent.load(again.archive).handle_text("/greet", "anna"))
    assert said[0]["text"] == "Hi! Where are you?"
    # a new response is a new action: the policies learn it
    domain.write_text(
        domain.read_text().replace("responses:\n", "responses:\n  utter_new:\n    - text: New\n"),
        encoding="utf-8",
    )
    assert "core" in train(Project(root), root / "models").trained


def test_parts_saved_in_an_older_layout_are_trained_again_not_reused(
    small_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release that saves a part differently (DIET's exported graph) must not serve the
    parts an older one left in `models/` from unchanged data."""
    import parlez.training

    root = tmp_path / "project"
    shutil.copytree(small_project, root)
    monkeypatch.setattr(parlez.training, "PART_FORMAT", parlez.training.PART_FORMAT - 1)
    train(Project(root), root / "models")
    monkeypatch.undo()
    again = train(Project(root), root / "models")
    assert set(again.trained) == {"nlu", "core"} and not again.reused


def test_an_nlu_trained_on_another_encoders_weights_is_trained_again(
    small_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its features came from float weights (before the encoder's were kept in 8 bits): the
    dialogue part, which does not read them, is reused."""
    import parlez.training

    root = tmp_path / "project"
    shutil.copytree(small_project, root)
    monkeypatch.setattr(parlez.training, "ENCODER_WEIGHTS", "float")
    train(Project(root), root / "models")
    monkeypatch.undo()
    again = train(Project(root), root / "models")
    assert again.trained == ["nlu"] and again.reused == ["core"]


def test_a_model_is_archived_uncompressed_and_one_compressed_before_still_loads(
    small_project: Path, tmp_path: Path
) -> None:
    """Its files are stored in the gzip stream (compressing float weights cost every training
    1.4 s and every start 0.05 s, for 15 % of the size); archives that older versions
    compressed load as before."""
    import asyncio
    import tarfile

    from parlez.agent import Agent

    root = tmp_path / "project"
    shutil.copytree(small_project, root)
    archive = train(Project(root), root / "models").archive
    with tarfile.open(archive, "r:gz") as tar:
        stored = sum(member.size for member in tar.getmembers())
    assert archive.stat().st_size >= stored

    compressed = tmp_path / "compressed.tar.gz"
    with (
        tarfile.open(archive, "r:gz") as source,
        tarfile.open(compressed, "w:gz", compresslevel=9) as target,
    ):
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    assert compressed.stat().st_size < stored
    for model in (archive, compressed):
        said = asyncio.run(Agent.load(model).handle_text("/greet", "anna"))
        assert said[0]["text"] == "Hello! Where are you?"


def test_two_trainings_in_the_same_second_keep_both_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retraining started as another one ends no longer overwrites its archive: the
    second is numbered."""
    monkeypatch.setattr("parlez.model.time.strftime", lambda _: "20261204-193000")
    first = archive_name("shop", models=tmp_path)
    (tmp_path / first).write_bytes(b"")
    second = archive_name("shop", models=tmp_path)
    assert first == "20261204-193000-shop.tar.gz" and second == first.replace(
        ".tar.gz", "-2.tar.gz"
    )
    (tmp_path / second).write_bytes(b"")
    assert archive_name("shop", models=tmp_path).endswith("-shop-3.tar.gz")


def test_the_trainer_process_exits_when_the_process_that_started_it_is_killed() -> None:
    """A server killed with -9 leaves no trainer behind waiting for work."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\n"
            "from parlez.training import trainer\n"
            "print(trainer().submit(os.getpid).result(), flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the killed parent's semaphores are reported there
        text=True,
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    os.kill(worker, 0)  # running
    parent.kill()
    parent.wait(timeout=30)
    deadline = time.monotonic() + 120
    while _running(worker):
        assert time.monotonic() < deadline, "the trainer outlived its parent"
        time.sleep(0.2)


def test_a_trainer_that_died_is_replaced_by_the_next_training() -> None:
    """A trainer killed for memory leaves the server able to train: the next one starts anew."""
    worker = trainer().submit(os.getpid).result(timeout=120)
    os.kill(worker, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):  # what the training in flight is told
        trainer().submit(os.getpid).result(timeout=120)
    future = train_in_subprocess(Path("no-such-project"), Path("no-models"), False)
    archive, problem = future.result(timeout=300)
    assert archive is None and problem  # trained (and failed) in a new process


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for good; only its parent (now init) has yet to reap it
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_checkpoints_slot_condition_is_part_of_what_the_policies_are_trained_on() -> None:
    """Changing which slots a story's checkpoint asks for trains the dialogue part again."""
    from parlez.config import Config
    from parlez.domain import Domain
    from parlez.io.yaml import read_yaml
    from parlez.training import core_fingerprint
    from parlez.training_data.stories import read_story_section

    def fingerprint_with(value: str) -> str:
        text = (
            "stories:\n- story: a\n  steps:\n  - intent: hi\n  - checkpoint: c\n"
            "- story: b\n  steps:\n  - checkpoint: c\n    slot_was_set:\n"
            f"    - tier: {value}\n  - action: utter_hi\n"
        )
        blocks = read_story_section(read_yaml(text, "data/stories.yml")["stories"], "story")
        config = Config.from_raw({"assistant_id": "t", "policies": []})
        return core_fingerprint(config, Domain(), blocks, [])

    assert fingerprint_with("gold") != fingerprint_with("silver")

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.cli.main import main
from parlez.project import Project
from parlez.validator import Validator


def test_init_creates_a_project_that_validates_clean(tmp_path: Path) -> None:
    target = tmp_path / "bot"
    assert main(["init", str(target)]) == 0
    for name in (
        "domain.yml",
        "config.yml",
        "credentials.yml",
        "endpoints.yml",
        "data/nlu.yml",
        "data/stories.yml",
        "data/rules.yml",
        "actions/__init__.py",
        "tests/test_stories.yml",
    ):
        assert (target / name).is_file(), name
    assert (target / "models").is_dir()
    project = Project(target)
    found = Validator(project.domain, project.training_data, project.stories, project.rules).run(
        project.config.max_history()
    )
    assert [f for f in found if f.level == "error"] == []


def test_init_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["init", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "keep.txt").read_text() == "mine"

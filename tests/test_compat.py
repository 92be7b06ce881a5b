"""Real Rasa projects and public NLU benchmarks load, and validate as Rasa reports them."""

from __future__ import annotations

import json

import pytest

from parlez.diagnostics import collect
from parlez.project import DataFiles, Project, read_data_file
from parlez.validator import Validator
from tests.conftest import REPO, shared_path


def validate(project: Project) -> list[str]:
    with collect() as warnings:
        found = Validator(
            project.domain, project.training_data, project.stories, project.rules
        ).run(project.config.max_history())
        project.test_stories  # noqa: B018 - reading them is the check
        project.endpoints  # noqa: B018
    return [f"{f.level} {f.code}: {f}" for f in [*warnings, *found]]


def test_formbot_validates_with_only_the_warnings_rasa_gives() -> None:
    project = Project(shared_path("compat", "formbot"))
    findings = validate(project)
    assert [f for f in findings if f.startswith("error")] == []
    unused = sorted(f.split("'")[1] for f in findings if "P220" in f)
    assert unused == [
        "utter_restart",
        "utter_wrong_cuisine",
        "utter_wrong_num_people",
        "utter_wrong_outdoor_seating",
    ]
    # Rasa also warns that `inform` appears in no story or rule (forms use it to fill slots).
    assert [f.split(":")[0] for f in findings if "P206" in f] == ["warning P206"]
    assert "'inform'" in next(f for f in findings if "P206" in f)
    assert len(findings) == 5
    assert len(project.training_data.examples) == 289
    assert len(project.test_stories) == 3
    assert project.domain.forms["restaurant_form"].ignored_intents == ["chitchat"]
    assert project.training_data.annotated_synonyms()["gastro pub"] == "gastropub"


def test_moodbot_validates_clean() -> None:
    project = Project(shared_path("compat", "moodbot"))
    assert validate(project) == []
    assert len(project.training_data.examples) == 67
    assert len(project.test_stories) == 7
    assert project.domain.responses["utter_cheer_up"][0]["image"].startswith("https://")


@pytest.mark.parametrize(
    "split",
    [
        "snips/train.yml",
        "snips/test.yml",
        "snips_goo2018/train.yml",
        "snips_goo2018/valid.yml",
        "snips_goo2018/test.yml",
        "clinc150/train.yml",
        "clinc150/valid.yml",
        "clinc150/test.yml",
    ],
)
def test_benchmark_nlu_files_load_with_their_published_counts(split: str) -> None:
    path = shared_path("bench", "nlu", split)
    files = DataFiles()
    read_data_file(path, files)
    stats = json.loads((path.parent / "stats.json").read_text())[path.stem]
    nlu = files.nlu
    assert len(nlu.examples) == stats["examples"]
    assert sum(len(m.entities) for m in nlu.examples) == stats["entity_mentions"]
    assert len(nlu.intents) == stats["intents"]


def test_the_repository_s_own_assistant_validates_without_a_single_warning() -> None:
    project = Project(REPO)
    assert validate(project) == []
    assert project.config.assistant_id == "maple_street_studio"

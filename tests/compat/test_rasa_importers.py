"""`importers:` in config.yml: Rasa's MultiProjectImporter makes one assistant of the
projects under `imports:` (Rasa's `data/test_multiproject`); an importer parlez does not
have is said, and the project read from its usual files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from parlez.diagnostics import collect
from parlez.project import Project
from parlez.validator import Validator
from tests.conftest import shared_path


@pytest.fixture
def multiproject(tmp_path: Path) -> Path:
    root = tmp_path / "multiproject"
    shutil.copytree(shared_path("compat", "rasa-3.0.4", "data", "test_multiproject"), root)
    return root


def test_the_imported_projects_make_one_domain_and_one_data_set(multiproject: Path) -> None:
    with collect() as warnings:
        project = Project(multiproject)
        domain, data = project.domain, project.data
    assert {"greet", "goodbye", "tell_joke", "bot_challenge"} <= set(domain.intents)
    assert {"utter_greet", "utter_joke", "utter_iamabot"} <= set(domain.responses)
    assert {e.intent for e in data.nlu.examples} >= {"greet", "tell_joke"}
    assert len(data.rules) == 4
    assert not [w for w in warnings if w.code in ("P162", "P113")]


def test_a_multi_project_validates_without_errors(multiproject: Path) -> None:
    with collect():
        project = Project(multiproject)
        found = Validator.for_project(project).run(None)
    assert [f for f in found if f.level == "error"] == []


def test_imports_are_followed_through_the_imported_projects_own_config(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text(
        "importers:\n- name: rasa.shared.importers.multi_project.MultiProjectImporter\n"
        "imports:\n- shop\n",
        encoding="utf-8",
    )
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "config.yml").write_text("imports:\n- ../faq\n", encoding="utf-8")
    (shop / "domain.yml").write_text("intents: [buy]\n", encoding="utf-8")
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "domain.yml").write_text("intents: [ask_hours]\n", encoding="utf-8")
    (faq / "nlu.yml").write_text(
        "nlu:\n- intent: ask_hours\n  examples: |\n    - when are you open\n",
        encoding="utf-8",
    )
    with collect():
        project = Project(tmp_path)
        assert set(project.domain.intents) >= {"buy", "ask_hours"}
        assert [e.text for e in project.data.nlu.examples] == ["when are you open"]


def test_an_importer_parlez_does_not_have_is_said_and_the_usual_files_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.yml").write_text(
        "importers:\n- name: my_company.importers.CmsImporter\n", encoding="utf-8"
    )
    (tmp_path / "domain.yml").write_text("intents: [greet]\n", encoding="utf-8")
    with collect() as warnings:
        project = Project(tmp_path)
        assert "greet" in project.domain.intents
    assert [w.code for w in warnings] == ["P164"]
    assert "CmsImporter" in warnings[0].message

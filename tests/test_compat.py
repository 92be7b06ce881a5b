"""Real Rasa projects and public NLU benchmarks load, and validate as Rasa reports them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from parlez.diagnostics import collect
from parlez.project import DataFiles, Project, read_data_file
from parlez.validator import Validator
from tests.conftest import REPO, shared_path


def validate(project: Project) -> list[str]:
    with collect() as warnings:
        found = Validator.for_project(project).run(project.config.max_history())
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


# ---- training and test stories: the projects work as they are ------------------------------------

FORMBOT_VALIDATION = '''
from rasa_sdk import FormValidationAction

CUISINES = ["caribbean", "chinese", "french", "greek", "indian", "italian", "mexican", "afghan"]


class ValidateRestaurantForm(FormValidationAction):
    """What formbot's action server does (Rasa's example), as a test fixture."""

    def name(self):
        return "validate_restaurant_form"

    def validate_cuisine(self, value, dispatcher, tracker, domain):
        if value and value.lower() in CUISINES:
            return {"cuisine": value.lower()}
        dispatcher.utter_message(response="utter_wrong_cuisine")
        return {"cuisine": None}

    def validate_num_people(self, value, dispatcher, tracker, domain):
        try:
            number = int(float(value))
        except (TypeError, ValueError):
            number = 0
        if number > 0:
            return {"num_people": number}
        dispatcher.utter_message(response="utter_wrong_num_people")
        return {"num_people": None}

    def validate_outdoor_seating(self, value, dispatcher, tracker, domain):
        if isinstance(value, bool):
            return {"outdoor_seating": value}
        if isinstance(value, str) and value.lower() in ("in", "inside", "indoors", "out", "outside", "outdoors"):
            return {"outdoor_seating": value.lower() in ("out", "outside", "outdoors")}
        dispatcher.utter_message(response="utter_wrong_outdoor_seating")
        return {"outdoor_seating": None}
'''


@pytest.fixture(scope="module")
def trained_compat(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both compat projects trained once, unchanged, with `parlez train`."""
    from parlez.training import train

    out = tmp_path_factory.mktemp("compat-models")
    archives = {}
    for name in ("moodbot", "formbot"):
        with collect():
            archives[name] = train(Project(shared_path("compat", name)), out / name).archive
    return archives


@pytest.mark.parametrize("name", ["moodbot", "formbot"])
def test_compat_projects_pass_all_their_test_stories(
    name: str, trained_compat: dict[str, Path]
) -> None:
    from parlez.agent import Agent
    from parlez.evaluation.stories import evaluate_stories

    project = Project(shared_path("compat", name))
    agent = Agent.load(trained_compat[name])
    with collect():
        evaluation = asyncio.run(evaluate_stories(agent, project.test_stories))
    failed = [s.name for s in evaluation.failed]
    assert failed == []
    assert len(evaluation.stories) == len(project.test_stories)


def test_formbot_fills_its_form_with_its_validation_action(
    trained_compat: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parlez.agent import Agent
    from parlez.endpoints import Endpoints

    package = tmp_path / "formbot_actions"
    package.mkdir()
    (package / "__init__.py").write_text(FORMBOT_VALIDATION, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with collect():
        agent = Agent.load(trained_compat["formbot"], Endpoints(), actions_module="formbot_actions")

    def say(text: str) -> list[str]:
        return [m.get("text") or "" for m in asyncio.run(agent.handle_text(text, "diner"))]

    with collect():
        assert say("hi") == ["Hello! I am restaurant search assistant! How can I help?"]
        assert say("im looking for a restaurant") == ["What cuisine?"]
        assert say("klingon") == [
            "Cuisine type is not in the database, please try again",
            "What cuisine?",
        ]
        assert say("chinese food") == ["How many people?"]
        # The number comes from parlez's embedded Duckling (formbot's Duckling url is down).
        assert say("for four people") == ["Do you want to sit outside?"]
        assert say("yes") == ["Please provide additional preferences"]
        assert say("no") == ["Please give your feedback on your experience so far"]
        answer = say("great service")
    assert answer[0] == "All done!"
    assert "cuisine: chinese" in answer[1] and "num_people: 4" in answer[1]
    assert (
        "outdoor_seating: True" in answer[1]
        and "preferences: no additional preferences" in answer[1]
    )


def test_formbot_over_the_rest_channel(
    trained_compat: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same form, through the HTTP server as a web page would reach it."""
    from parlez.agent import Agent
    from parlez.channels.rest import RestInput
    from parlez.endpoints import Endpoints
    from parlez.server.app import create_app
    from parlez.server.state import ServerState

    package = tmp_path / "formbot_rest_actions"
    package.mkdir()
    (package / "__init__.py").write_text(FORMBOT_VALIDATION, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    agent = Agent.load(
        trained_compat["formbot"], Endpoints(), actions_module="formbot_rest_actions"
    )
    app = create_app(ServerState(agent=agent, channels=[RestInput()]))

    async def conversation() -> list[list[str]]:
        answers = []
        for text in ["hi", "im looking for a restaurant", "greek", "for 2 people", "no", "no"]:
            _, reply = await app.asgi_client.post(
                "/webhooks/rest/webhook", json={"sender": "web", "message": text}
            )
            assert reply.status == 200
            answers.append([m.get("text") for m in reply.json])
        return answers

    with collect():
        answers = asyncio.run(conversation())
    assert answers[1] == ["What cuisine?"]
    assert answers[2] == ["How many people?"]
    assert answers[3] == ["Do you want to sit outside?"]
    assert answers[5] == ["Please give your feedback on your experience so far"]


def test_moodbot_over_socketio_from_parlez_run(
    trained_compat: dict[str, Path], tmp_path: Path
) -> None:
    """moodbot, unchanged, served by `parlez run` and talked to by a socket.io client."""
    from tests.server.process import parlez_run
    from tests.server.test_run import socket_conversation

    credentials = tmp_path / "credentials.yml"
    credentials.write_text("socketio:\n  session_persistence: true\nrest:\n", encoding="utf-8")
    with parlez_run(
        shared_path("compat", "moodbot"),
        "-m",
        str(trained_compat["moodbot"]),
        "--credentials",
        str(credentials),
        "--endpoints",
        str(tmp_path / "none.yml"),
    ) as server:
        _, answers = asyncio.run(
            socket_conversation(server.url, None, ["hello", "/mood_unhappy", "no"])
        )
    assert answers[0]["text"] == "Hey! How are you?"
    assert [r["title"] for r in answers[0]["quick_replies"]] == ["great", "super sad"]
    assert answers[1]["text"] == "Here is something to cheer you up:"

"""The assistant's own domain, rules and rasa_sdk actions, in a folder of each test's own."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.channels.channel import UserMessage
from parlez.core.actions.custom import InProcessExecutor
from parlez.core.training_trackers import rule_trackers, story_trackers
from parlez.project import Project
from tests.conftest import REPO
from tests.core.helpers import ensemble

NOW = "2026-11-25T10:00:00+00:00"  # a Wednesday morning


@pytest.fixture(scope="module")
def policies() -> Any:
    project = Project(REPO)
    training = story_trackers(project.stories) + rule_trackers(project.rules)
    return project.domain, ensemble(
        [{"name": "MemoizationPolicy", "max_history": 5}, {"name": "RulePolicy"}],
        training,
        project.domain,
    )


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The assistant's business.yml in a folder of the test's own, with a fixed clock."""
    shutil.copy(REPO / "business.yml", tmp_path / "business.yml")
    monkeypatch.setenv("PARLEZ_PROJECT", str(tmp_path))
    monkeypatch.setenv("PARLEZ_NOW", NOW)
    return tmp_path


@pytest.fixture
def knowledge_base(studio: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The assistant's data/kb/ in the test's folder, searched by the answer action (its
    entries about hours, prices and services name the actions that answer them)."""
    import actions.knowledge

    shutil.copytree(REPO / "data" / "kb", studio / "data" / "kb")
    monkeypatch.setattr(actions.knowledge, "_answerer", None)
    return studio / "data" / "kb"


@pytest.fixture
def bot(policies: Any, studio: Path) -> Agent:
    domain, trained = policies
    # Without NLU: buttons and tests send `/intent{...}`; plain text fills the requested slot.
    return Agent(domain, trained, None, custom=InProcessExecutor("actions"))


def say(bot: Agent, text: str, sender: str = "anna") -> list[dict[str, Any]]:
    return asyncio.run(bot.handle_text(text, sender))


def read_as(bot: Agent, text: str, intent: str, sender: str = "anna") -> list[dict[str, Any]]:
    """`text` as the NLU understood it (these tests run without an NLU model)."""
    parse = {"intent": {"name": intent, "confidence": 0.8}, "entities": [], "text": text}
    return asyncio.run(bot.handle_message(UserMessage(text, None, sender, parse_data=parse)))


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or "" for m in messages]


def book(bot: Agent, sender: str, time: str) -> list[dict[str, Any]]:
    say(bot, "/book_appointment", sender)
    say(bot, '/inform{"service": "haircut"}', sender)
    return say(bot, time, sender)

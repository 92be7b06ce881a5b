"""The assistant's own domain, rules and rasa_sdk actions, in a folder of each test's own."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.calendar import LocalCalendar
from actions.integrations.crm import LeadStore
from actions.integrations.database import database
from actions.integrations.outbox import Outbox
from parlez.agent import Agent
from parlez.channels.channel import UserMessage
from parlez.core.actions.custom import InProcessExecutor
from parlez.core.training_trackers import rule_trackers, story_trackers
from parlez.project import Project
from tests.conftest import REPO
from tests.core.helpers import ensemble
from tests.fakes.hubspot import TOKEN, FakeHubSpot, fake_hubspot

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
    """The assistant's business.yml in a folder of the test's own, with a fixed clock, and
    an answer action that reads this folder's knowledge base (or finds none): the one an
    earlier test made in this process, for another project, answered with its entries."""
    import actions.knowledge

    shutil.copy(REPO / "business.yml", tmp_path / "business.yml")
    monkeypatch.setenv("PARLEZ_PROJECT", str(tmp_path))
    monkeypatch.setenv("PARLEZ_NOW", NOW)
    monkeypatch.setattr(actions.knowledge, "_answerer", None)
    return tmp_path


@pytest.fixture
def knowledge_base(studio: Path) -> Path:
    """The assistant's data/kb/ in the test's folder, searched by the answer action (its
    entries about hours, prices and services name the actions that answer them)."""
    shutil.copytree(REPO / "data" / "kb", studio / "data" / "kb")
    return studio / "data" / "kb"


@pytest.fixture
def hubspot(studio: Path) -> Iterator[FakeHubSpot]:
    """The studio's CRM: a local HubSpot."""
    with fake_hubspot() as fake:
        settings = (studio / "business.yml").read_text()
        (studio / "business.yml").write_text(
            settings.replace(
                "crm: {}", f"crm:\n  type: hubspot\n  url: {fake.url}\n  token: {TOKEN}"
            )
        )
        yield fake


@pytest.fixture
def bot(policies: Any, studio: Path) -> Agent:
    domain, trained = policies
    # Without NLU: buttons and tests send `/intent{...}`; plain text fills the requested slot.
    return Agent(domain, trained, None, custom=InProcessExecutor("actions"))


CALENDAR = """  calendar:
    type: local             # in the project's database; or: caldav (url, username,
                            # password: ${CALDAV_PASSWORD}, calendar)
"""
#: a CalDAV calendar nothing answers at (a closed port): the calendar is down
UNREACHABLE = "  calendar:\n    type: caldav\n    url: http://127.0.0.1:9/\n    timeout: 5\n"


def calendar_down(studio: Path) -> None:
    """The studio's calendar cannot be reached until `calendar_back`."""
    settings = studio / "business.yml"
    text = settings.read_text()
    assert CALENDAR in text
    settings.write_text(text.replace(CALENDAR, UNREACHABLE))


def calendar_back(studio: Path) -> None:
    settings = studio / "business.yml"
    settings.write_text(settings.read_text().replace(UNREACHABLE, CALENDAR))


def local_calendar(studio: Path) -> LocalCalendar:
    """The studio's calendar, as its actions see it."""
    return LocalCalendar(database(studio))


def the_outbox(studio: Path) -> Outbox:
    return Outbox(database(studio))


def the_leads(studio: Path) -> LeadStore:
    return LeadStore(database(studio))


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

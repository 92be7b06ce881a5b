"""Reminders set by `rasa_sdk` actions fire their intent later, unless outdated or cancelled."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from parlez.agent import Agent
from parlez.channels.channel import CollectingOutputChannel
from parlez.core.actions.custom import InProcessExecutor
from parlez.core.reminders import Reminder, ReminderScheduler, cancels
from parlez.events import ReminderCancelled, ReminderScheduled, UserUttered
from tests.core.helpers import agent, domain

DOMAIN = """
version: "3.1"
intents: [remind_me, remind_me_anyway, forget_it, greet, EXTERNAL_tea_time]
entities: [drink]
slots:
  drink:
    type: text
    mappings:
    - type: from_entity
      entity: drink
actions: [action_set_tea_reminder, action_set_stubborn_reminder, action_forget_tea]
responses:
  utter_greet: [{text: "Hello!"}]
  utter_tea_time: [{text: "Time for your {drink}!"}]
"""

RULES = """
rules:
- rule: set
  steps:
  - intent: remind_me
  - action: action_set_tea_reminder
- rule: set anyway
  steps:
  - intent: remind_me_anyway
  - action: action_set_stubborn_reminder
- rule: forget
  steps:
  - intent: forget_it
  - action: action_forget_tea
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: the reminder is due
  steps:
  - intent: EXTERNAL_tea_time
  - action: utter_tea_time
"""

ACTIONS = """
import datetime
from rasa_sdk import Action
from rasa_sdk.events import ReminderCancelled, ReminderScheduled

IN_AN_HOUR = datetime.timedelta(hours=1)

class SetTea(Action):
    def name(self):
        return "action_set_tea_reminder"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="I'll remind you in an hour.")
        when = datetime.datetime.now() + IN_AN_HOUR
        return [ReminderScheduled("EXTERNAL_tea_time", when, entities={"drink": "tea"}, name="tea")]

class SetStubborn(Action):
    def name(self):
        return "action_set_stubborn_reminder"

    def run(self, dispatcher, tracker, domain):
        when = datetime.datetime.now(datetime.timezone.utc) + IN_AN_HOUR
        return [
            ReminderScheduled(
                "EXTERNAL_tea_time", when, entities=[{"entity": "drink", "value": "coffee"}],
                kill_on_user_message=False,
            )
        ]

class Forget(Action):
    def name(self):
        return "action_forget_tea"

    def run(self, dispatcher, tracker, domain):
        return [ReminderCancelled(intent_name="EXTERNAL_tea_time")]
"""

LATER = datetime.now() + timedelta(hours=2)


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Agent]:
    package = f"reminder_actions_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(textwrap.dedent(ACTIONS), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield agent(domain(DOMAIN), rules=RULES, custom=InProcessExecutor(package))
    sys.modules.pop(package, None)


async def _say(bot: Agent, text: str, channel: CollectingOutputChannel) -> None:
    await bot.handle_text(text, "ann", channel)


async def _external_texts(bot: Agent) -> list[str | None]:
    tracker = await bot.tracker_store.retrieve("ann")
    assert tracker is not None
    return [
        e.text
        for e in tracker.events
        if isinstance(e, UserUttered) and e.metadata.get("is_external")
    ]


def test_a_due_reminder_triggers_its_intent_and_answers_on_the_same_channel(bot: Agent) -> None:
    async def talk() -> tuple[list[str], list[str | None]]:
        channel = CollectingOutputChannel()
        await _say(bot, "/remind_me", channel)
        assert [r.name for r in bot.reminders.pending("ann")] == ["tea"]
        assert await bot.reminders.fire_due(LATER) == 1
        return [m["text"] for m in channel.messages], await _external_texts(bot)

    said, external = asyncio.run(talk())
    assert said == ["I'll remind you in an hour.", "Time for your tea!"]
    assert external == ["EXTERNAL: EXTERNAL_tea_time"]
    assert bot.reminders.pending() == []


def test_a_reminder_not_yet_due_waits(bot: Agent) -> None:
    async def talk() -> int:
        await _say(bot, "/remind_me", CollectingOutputChannel())
        return await bot.reminders.fire_due(datetime.now())

    assert asyncio.run(talk()) == 0


def test_the_timer_fires_on_its_own_when_the_time_comes(bot: Agent) -> None:
    scheduler = bot.reminders
    event = ReminderScheduled("EXTERNAL_tea_time", datetime.now(), entities={"drink": "milk"})

    async def talk() -> list[str]:
        channel = CollectingOutputChannel()
        await _say(bot, "/greet", channel)
        tracker = await bot.tracker_store.retrieve("ann")
        assert tracker is not None
        tracker.update(event)  # as if an action had just set it
        await bot.tracker_store.save(tracker)
        scheduler.schedule(event, "ann", channel)
        while scheduler.pending():
            await asyncio.sleep(0.01)
        return [m["text"] for m in channel.messages]

    assert asyncio.run(talk()) == ["Hello!", "Time for your milk!"]


def test_a_user_message_after_the_reminder_cancels_it_by_default(bot: Agent) -> None:
    async def talk() -> list[str | None]:
        channel = CollectingOutputChannel()
        await _say(bot, "/remind_me", channel)
        await _say(bot, "/greet", channel)
        await bot.reminders.fire_due(LATER)
        return await _external_texts(bot)

    assert asyncio.run(talk()) == []


def test_kill_on_user_message_false_keeps_the_reminder_through_new_messages(bot: Agent) -> None:
    async def talk() -> list[str]:
        channel = CollectingOutputChannel()
        await _say(bot, "/remind_me_anyway", channel)
        await _say(bot, "/greet", channel)
        await bot.reminders.fire_due(LATER)
        return [m["text"] for m in channel.messages]

    assert asyncio.run(talk()) == ["Hello!", "Time for your coffee!"]


def test_a_restart_drops_the_reminders_set_before_it(bot: Agent) -> None:
    async def talk() -> list[str | None]:
        channel = CollectingOutputChannel()
        await _say(bot, "/remind_me_anyway", channel)
        await _say(bot, "/restart", channel)
        await bot.reminders.fire_due(LATER)
        return await _external_texts(bot)

    assert asyncio.run(talk()) == []


def test_reminder_cancelled_drops_the_matching_pending_reminders(bot: Agent) -> None:
    async def talk() -> int:
        channel = CollectingOutputChannel()
        await _say(bot, "/remind_me", channel)
        await _say(bot, "/forget_it", channel)
        return await bot.reminders.fire_due(LATER)

    assert asyncio.run(talk()) == 0


def test_a_reminder_with_the_name_of_a_pending_one_replaces_it() -> None:
    scheduler = ReminderScheduler()

    async def schedule() -> list[ReminderScheduled]:
        for drink in ("tea", "coffee"):
            event = ReminderScheduled("x", LATER, entities={"drink": drink}, name="daily")
            scheduler.schedule(event, "ann", CollectingOutputChannel())
        scheduler.schedule(
            ReminderScheduled("x", LATER, name="daily"), "bob", CollectingOutputChannel()
        )
        pending = scheduler.pending("ann")
        await scheduler.close()
        return pending

    assert [r.entities for r in asyncio.run(schedule())] == [{"drink": "coffee"}]


def test_a_cancellation_matches_every_field_it_gives_in_its_own_conversation() -> None:
    reminder = Reminder(
        ReminderScheduled("ask", LATER, entities=[{"entity": "drink", "value": "tea"}], name="n"),
        "ann",
        CollectingOutputChannel(),
    )
    assert cancels(ReminderCancelled(), reminder, "ann")
    assert cancels(ReminderCancelled(name="n", intent="ask"), reminder, "ann")
    assert cancels(ReminderCancelled(entities={"drink": "tea"}), reminder, "ann")
    assert not cancels(ReminderCancelled(entities={"drink": "milk"}), reminder, "ann")
    assert not cancels(ReminderCancelled(name="other"), reminder, "ann")
    assert not cancels(ReminderCancelled(), reminder, "bob")


def test_an_unnamed_reminder_gets_a_unique_name_that_survives_serialisation() -> None:
    first, second = ReminderScheduled("x", LATER), ReminderScheduled("x", LATER)
    assert first.name and second.name and first.name != second.name
    again = ReminderScheduled.from_dict(first.to_dict())
    assert isinstance(again, ReminderScheduled) and again.name == first.name


def test_a_model_loaded_later_answers_the_reminders_already_set(bot: Agent) -> None:
    newer = agent(domain(DOMAIN), rules=RULES.replace("utter_tea_time", "utter_greet"))
    scheduler = bot.reminders

    async def talk() -> list[str]:
        channel = CollectingOutputChannel()
        await _say(bot, "/remind_me", channel)
        newer.tracker_store = newer.processor.tracker_store = bot.tracker_store
        newer.use_reminders(scheduler)
        await scheduler.fire_due(LATER)
        return [m["text"] for m in channel.messages]

    assert asyncio.run(talk()) == ["I'll remind you in an hour.", "Hello!"]

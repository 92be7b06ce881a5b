"""Forms with a rasa_sdk FormValidationAction run in-process, exactly as users write them."""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from parlez.core.actions.custom import InProcessExecutor
from tests.core.helpers import agent, domain, events, say

DOMAIN = """
version: "3.1"
intents: [greet, book, inform, chitchat, stop, affirm, give_up]
entities: [guests, name]
slots:
  guests:
    type: float
    influence_conversation: false
    mappings:
    - type: from_entity
      entity: guests
  name:
    type: text
    influence_conversation: false
    mappings:
    - type: from_text
      conditions:
      - active_loop: booking_form
        requested_slot: name
forms:
  booking_form:
    ignored_intents: [chitchat]
    required_slots: [guests, name]
actions:
  - validate_booking_form
responses:
  utter_ask_guests: [{text: "How many guests?"}]
  utter_ask_name: [{text: "Under which name?"}]
  utter_done: [{text: "Booked for {guests} guests, {name}."}]
  utter_chitchat: [{text: "Let's get back to the booking."}]
"""

RULES = """
rules:
- rule: start booking
  steps:
  - intent: book
  - action: booking_form
  - active_loop: booking_form
- rule: done
  condition:
  - active_loop: booking_form
  steps:
  - action: booking_form
  - active_loop: null
  - action: utter_done
- rule: chitchat
  steps:
  - intent: chitchat
  - action: utter_chitchat
"""

STORIES = """
stories:
- story: stop the form
  steps:
  - intent: book
  - action: booking_form
  - active_loop: booking_form
  - intent: stop
  - action: action_deactivate_loop
  - active_loop: null
"""

VALIDATION = """
from rasa_sdk import FormValidationAction
from rasa_sdk.events import ActiveLoop, SlotSet

class ValidateBookingForm(FormValidationAction):
    def name(self):
        return "validate_booking_form"

    async def run(self, dispatcher, tracker, domain):
        events = await super().run(dispatcher, tracker, domain)
        if tracker.latest_message["intent"]["name"] == "give_up":
            dispatcher.utter_message(text="Let's leave it there.")
            return events + [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events

    def validate_guests(self, value, dispatcher, tracker, domain):
        if value is None or float(value) < 1 or float(value) > 12:
            dispatcher.utter_message(text="We take tables of 1 to 12 guests.")
            return {"guests": None}
        return {"guests": float(value)}

    def validate_name(self, value, dispatcher, tracker, domain):
        return {"name": value.strip().title()}
"""


@pytest.fixture
def validation_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"form_actions_{uuid.uuid4().hex[:8]}"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(VALIDATION), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_the_form_validates_each_answer_with_the_sdk_action(validation_package: str) -> None:
    bot = agent(
        domain(DOMAIN), rules=RULES, stories=STORIES, custom=InProcessExecutor(validation_package)
    )
    assert say(bot, "/book") == ["How many guests?"]
    assert say(bot, '/inform{"guests": 40}') == [
        "We take tables of 1 to 12 guests.",
        "How many guests?",
    ]
    assert say(bot, '/inform{"guests": 4}') == ["Under which name?"]
    # from_text with a condition on the requested slot: the whole message is the name.
    assert say(bot, "ada lovelace") == ["Booked for 4.0 guests, Ada Lovelace."]
    slots = [e for e in events(bot) if e["event"] == "slot" and e["name"] == "requested_slot"]
    assert slots[-1]["value"] is None


def test_an_ignored_intent_does_not_fill_a_from_text_slot(validation_package: str) -> None:
    bot = agent(
        domain(DOMAIN), rules=RULES, stories=STORIES, custom=InProcessExecutor(validation_package)
    )
    say(bot, '/book{"guests": 2}')
    assert say(bot, "/chitchat") == ["Let's get back to the booking.", "Under which name?"]
    assert say(bot, "Grace") == ["Booked for 2.0 guests, Grace."]


def test_a_story_can_deactivate_the_form(validation_package: str) -> None:
    bot = agent(
        domain(DOMAIN), rules=RULES, stories=STORIES, custom=InProcessExecutor(validation_package)
    )
    say(bot, "/book")
    say(bot, "/stop")
    loops = [e["name"] for e in events(bot) if e["event"] == "active_loop"]
    assert loops == ["booking_form", None]


def test_a_validator_that_ends_the_form_is_not_taken_for_a_rejection(
    validation_package: str,
) -> None:
    bot = agent(
        domain(DOMAIN), rules=RULES, stories=STORIES, custom=InProcessExecutor(validation_package)
    )
    say(bot, "/book")
    assert say(bot, "/give_up")[0] == "Let's leave it there."
    logged = events(bot)
    assert [e["name"] for e in logged if e["event"] == "active_loop"][-1] is None
    assert not any(e["event"] == "action_execution_rejected" for e in logged)


def test_without_an_action_server_the_form_goes_on_unvalidated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = agent(domain(DOMAIN), rules=RULES, stories=STORIES)
    say(bot, "/book")
    assert say(bot, '/inform{"guests": 40}') == ["Under which name?"]
    assert "validate_booking_form" in caplog.text

"""`parlez data validate` fails where `rasa data validate` fails and passes where it passes,
on the patterns Rasa's own documentation gives."""

from __future__ import annotations

import asyncio

import pytest

from parlez.agent import Agent
from parlez.cli.main import main
from parlez.validator import Validator
from tests.conftest import ProjectFactory

DOMAIN = """
version: "3.1"
intents: [greet, nlu_fallback]
responses:
  utter_greet:
  - text: hi
"""

TWO_STAGE_RULES = """
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: Implementation of the Two-Stage-Fallback
  steps:
  - intent: nlu_fallback
  - action: action_two_stage_fallback
  - active_loop: action_two_stage_fallback
"""


def test_a_rule_activating_the_two_stage_fallback_loop_is_valid(
    tmp_project: ProjectFactory,
) -> None:
    """Rasa's fallback docs activate it exactly so: it is a loop, not a missing form."""
    project = tmp_project(domain=DOMAIN, rules=TWO_STAGE_RULES)
    found = Validator.for_project(project).run(None)
    assert [f.code for f in found if f.level == "error"] == []


def test_a_rule_activating_an_unknown_loop_is_still_an_error(
    tmp_project: ProjectFactory,
) -> None:
    project = tmp_project(
        domain=DOMAIN, rules=TWO_STAGE_RULES.replace("active_loop: action_two", "active_loop: two")
    )
    found = Validator.for_project(project).run(None)
    assert [f.code for f in found if f.level == "error"] == ["P213"]


WARNED_DOMAIN = """
version: "3.1"
intents: [greet, inform, bye]
entities: [city]
slots:
  city:
    type: text
    mappings:
    - type: from_entity
      entity: city
  colour:
    type: categorical
    values: [red, blue]
    mappings:
    - type: from_entity
      entity: colour
forms:
  trip_form:
    ignored_intents: [chitchat]
    required_slots: [city]
responses:
  utter_greet:
  - text: Hello!
  - text: Hello, happy one!
    condition:
    - type: slot
      name: mood
      value: happy
  utter_ask_city:
  - text: Which city?
  utter_travel:
  - text: Have a good trip.
  utter_bye:
  - text: Bye!
"""
WARNED_STORIES = """
version: "3.1"
stories:
- story: greet politely
  steps:
  - intent: greet
  - action: utter_greet
- story: greet and leave
  steps:
  - intent: greet
  - action: utter_bye
- story: trip
  steps:
  - intent: inform
    entities:
    - town: Paris
  - slot_was_set:
    - weather: sunny
  - slot_was_set:
    - colour: green
  - action: utter_travel
- story: bye
  steps:
  - intent: bye
  - action: utter_bye
"""
WARNED_NLU = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hi
    - hello
    - good morning
- intent: inform
  examples: |
    - I am going to [Paris](city)
    - a trip to [Rome](city)
    - [Oslo](city) please
- intent: bye
  examples: |
    - bye
    - goodbye
    - see you
"""
WARNED_CONFIG = """
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 20
    random_seed: 1
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
  - name: TEDPolicy
    epochs: 5
    random_seed: 1
"""


def test_what_rasa_trains_with_only_warnings_is_warned_about_and_trained(
    tmp_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa's validator fails only where its `data validate` exits 1; undeclared entities
    and slots in stories, categorical values, a form's ignored intent, a mapping's entity, a
    response condition's slot and story conflicts it trains with. So does parlez: each is a
    warning, `parlez train` (which validates first) trains, and the bot answers."""
    project = tmp_project(
        domain=WARNED_DOMAIN, nlu=WARNED_NLU, stories=WARNED_STORIES, config=WARNED_CONFIG
    )
    found = Validator.for_project(project).run(project.config.max_history())
    assert [f.render() for f in found if f.level == "error"] == []
    warned = {f.code for f in found}
    assert {"P211", "P214", "P215", "P232", "P233", "P240", "P250"} <= warned
    monkeypatch.chdir(project.root)
    assert main(["data", "validate"]) == 0
    assert main(["data", "validate", "--fail-on-warnings"]) == 1
    assert main(["train", "--fixed-model-name", "warned"]) == 0
    agent = Agent.load(project.root / "models" / "warned.tar.gz")
    said = asyncio.run(agent.handle_text("bye", "traveller"))
    assert [m.get("text") for m in said] == ["Bye!"]
    # the story with the undeclared entity, slot and categorical value was trained on
    said = asyncio.run(agent.handle_text("I am going to Paris", "traveller"))
    assert [m.get("text") for m in said] == ["Have a good trip."]

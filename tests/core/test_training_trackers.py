"""The slots a story's entities fill, in the conversations the policies learn from: the
ones `action_extract_slots` sets when the assistant runs, so that training and answering see
the same states."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from parlez.channels.channel import CollectingOutputChannel
from parlez.core.actions.action import ActionContext
from parlez.core.actions.custom import CustomAction
from parlez.core.actions.extract_slots import ActionExtractSlots
from parlez.core.training_trackers import with_entity_slots
from parlez.domain import Domain
from parlez.events import Event, SlotSet, UserUttered
from parlez.nlg.generator import TemplatedGenerator
from parlez.tracker import DialogueStateTracker

DOMAIN = """
version: "3.1"
intents: [inform, greet, book]
entities:
  - city:
      roles: [from, to]
  - cuisine
forms:
  booking_form:
    required_slots: [cuisine]
slots:
  departure:
    type: text
    mappings:
    - type: from_entity
      entity: city
      role: from
  cities:
    type: list
    mappings:
    - type: from_entity
      entity: city
  cuisine:
    type: text
    mappings:
    - type: from_entity
      entity: cuisine
      not_intent: greet
  cuisine_in_form:
    type: text
    mappings:
    - type: from_entity
      entity: cuisine
      conditions:
      - active_loop: booking_form
"""


def message(intent: str, *entities: dict[str, Any]) -> UserUttered:
    return UserUttered(text="...", intent={"name": intent}, entities=list(entities))


def extracted(domain: Domain, said: UserUttered) -> list[Event]:
    """What the running assistant sets after `said`, with no form active."""
    tracker = DialogueStateTracker.from_events("t", [said], domain.all_slots.values())
    context = ActionContext(
        CollectingOutputChannel(), TemplatedGenerator(domain.responses), CustomAction
    )
    return asyncio.run(ActionExtractSlots().run(context, tracker, domain))


@pytest.mark.parametrize(
    "said",
    [
        message("inform", {"entity": "city", "value": "Lyon", "role": "from"}),
        message(
            "inform",
            {"entity": "city", "value": "Lyon", "role": "from"},
            {"entity": "city", "value": "Nice", "role": "to"},
        ),
        message("inform", {"entity": "cuisine", "value": "thai"}),
        message("greet", {"entity": "cuisine", "value": "thai"}),  # not_intent
        message("book", {"entity": "city", "value": "Paris"}),
        message(
            "inform",
            {"entity": "cuisine", "value": "thai"},
            {"entity": "cuisine", "value": "sushi"},
        ),
    ],
)
def test_a_story_message_fills_the_slots_the_assistant_would(said: UserUttered) -> None:
    domain = Domain.from_yaml(DOMAIN)
    filled = with_entity_slots([said], domain)[1:]
    assert sorted(e.to_dict()["name"] for e in filled) == sorted(
        e.to_dict()["name"] for e in extracted(domain, said)
    )
    assert [e for e in filled if isinstance(e, SlotSet)] == [
        e for e in extracted(domain, said) if isinstance(e, SlotSet)
    ]


def test_a_list_slot_gets_every_value_and_a_conditioned_mapping_none() -> None:
    domain = Domain.from_yaml(DOMAIN)
    said = message(
        "inform",
        {"entity": "city", "value": "Lyon", "role": "from"},
        {"entity": "city", "value": "Nice", "role": "to"},
        {"entity": "cuisine", "value": "thai"},
    )
    filled = {e.key: e.value for e in with_entity_slots([said], domain) if isinstance(e, SlotSet)}
    assert filled == {"departure": "Lyon", "cities": ["Lyon", "Nice"], "cuisine": "thai"}


def test_a_message_without_entities_fills_nothing() -> None:
    domain = Domain.from_yaml(DOMAIN)
    said = message("inform")
    assert with_entity_slots([said], domain) == [said]

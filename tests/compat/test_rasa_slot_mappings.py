"""Rasa's test_slot_mappings: which messages a slot mapping takes (the entity's role, the
mapping's intents, the active form's ignored intents), on Rasa's own domains, and a slot
domain Rasa refuses (no mappings) or parlez refuses alike (mappings that are not a list)."""

from __future__ import annotations

import pytest

from parlez.core.actions.extract_slots import entity_values, intent_wanted
from parlez.diagnostics import collect
from parlez.domain import Domain
from parlez.events import ActiveLoop, Event, UserUttered
from parlez.exceptions import SchemaError
from parlez.tracker import DialogueStateTracker
from parlez.training_data.training_data import TrainingData
from parlez.validator import Validator
from tests.conftest import shared_path


def _domain(*parts: str) -> Domain:
    with collect():
        return Domain.load(shared_path("compat", *parts))


def _tracker(domain: Domain, *events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("test", events, domain.all_slots.values())


@pytest.mark.parametrize(("slot", "takes"), [("GPE_destination", True), ("GPE_origin", False)])
def test_a_mapping_with_a_role_takes_only_entities_of_that_role(slot: str, takes: bool) -> None:
    domain = _domain("rasa-3.0.4", "data", "test_domains", "travel_form.yml")
    tracker = _tracker(
        domain,
        UserUttered(
            "I'm travelling to Vancouver.",
            intent={"name": "inform", "confidence": 0.96},
            entities=[{"entity": "GPE", "value": "Vancouver", "role": "destination"}],
        ),
    )
    mapping = domain.slots[slot].mappings[0]
    assert bool(entity_values(mapping, tracker)) is takes


def test_a_mapping_with_intents_takes_only_messages_of_those_intents() -> None:
    domain = _domain("formbot", "domain.yml")
    num_people = domain.slots["num_people"].mappings[0]
    preferences = domain.slots["preferences"].mappings[0]  # from_intent: deny
    number = [{"entity": "number", "value": 2}]
    request = UserUttered(
        "I'd like to book a restaurant for 2 people.",
        intent={"name": "request_restaurant", "confidence": 0.96},
        entities=number,
    )
    assert intent_wanted(num_people, _tracker(domain, request), domain)
    affirm = UserUttered("Yes, 2 please", intent={"name": "affirm"}, entities=number)
    assert not intent_wanted(num_people, _tracker(domain, request, affirm), domain)
    plain_affirm = UserUttered("Yes, please", intent={"name": "affirm"})
    assert not intent_wanted(preferences, _tracker(domain, request, affirm, plain_affirm), domain)


def test_an_intent_the_active_form_ignores_fills_none_of_its_slots() -> None:
    with collect():
        domain = Domain.from_yaml(
            """
            version: "3.0"
            intents:
            - greet
            - chitchat
            slots:
              cuisine:
                type: text
                mappings:
                - type: from_text
                  conditions:
                  - active_loop: restaurant_form
            forms:
              restaurant_form:
                ignored_intents:
                - chitchat
                required_slots:
                - cuisine
            """
        )
    tracker = _tracker(
        domain,
        ActiveLoop("restaurant_form"),
        UserUttered("The weather is sunny today", intent={"name": "chitchat"}),
    )
    assert not intent_wanted(domain.slots["cuisine"].mappings[0], tracker, domain)


def test_a_slot_without_mappings_is_read_and_warned_about() -> None:
    # Rasa 3 refuses the domain; parlez reads the slot as one only actions set, and
    # `data validate` says so (with the Rasa 2 way it was filled, where an entity has its name)
    with collect():
        domain = Domain.from_yaml(
            """
            version: "3.0"
            entities:
            - city
            slots:
              some_slot:
                type: text
                influence_conversation: False
              city:
                type: text
            """
        )
    found = Validator(domain, TrainingData(), []).run(check_conflicts=False)
    findings = {f.message: f for f in found if f.code == "P239"}
    assert sorted(findings) == [
        "slot 'city' has no mappings: no message fills it, only actions",
        "slot 'some_slot' has no mappings: no message fills it, only actions",
    ]
    hint = findings["slot 'city' has no mappings: no message fills it, only actions"].hint
    assert hint is not None and "from_entity, entity: city" in hint


def test_mappings_that_are_not_a_list_are_refused() -> None:
    with pytest.raises(SchemaError, match="must be a list"):
        Domain.from_yaml(
            """
            version: "3.0"
            entities:
            - from_entity
            slots:
              some_slot:
                type: text
                influence_conversation: False
                mappings:
                  type: from_entity
                  entity: some_entity
            """
        )

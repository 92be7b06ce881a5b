from __future__ import annotations

from pathlib import Path

import pytest

from parlez.diagnostics import collect
from parlez.domain import Domain
from parlez.exceptions import DomainError, EmptyFileError, SchemaError
from parlez.slots import BooleanSlot, CategoricalSlot, FloatSlot, ListSlot, TextSlot
from tests.conftest import write

FULL = """
version: "3.1"
intents:
  - greet
  - inform:
      use_entities: [city]
  - chitchat:
      use_entities: []
  - book:
      ignore_entities: [date]
entities:
  - city:
      roles: [from, to]
      groups: ["1", "2"]
  - date
slots:
  city:
    type: text
    mappings:
    - type: from_entity
      entity: city
      role: from
      intent: [inform, book]
  confirmed:
    type: bool
    initial_value: false
    mappings:
    - type: from_intent
      intent: affirm
      value: true
      conditions:
      - active_loop: travel_form
        requested_slot: confirmed
  seats:
    type: float
    min_value: 1
    max_value: 10
    mappings:
    - type: from_text
      not_intent: chitchat
  cabin:
    type: categorical
    values: [economy, business]
    mappings:
    - type: from_trigger_intent
      intent: upgrade
      value: business
  extras:
    type: list
    mappings:
    - type: custom
      action: action_extras
  raw:
    type: any
    influence_conversation: false
    mappings:
    - type: custom
forms:
  travel_form:
    ignored_intents: chitchat
    required_slots: [city, confirmed]
responses:
  utter_greet:
  - text: "Hello {city}!"
    buttons:
    - title: "Hi"
      payload: /greet
  - text: Hi business traveller
    condition:
    - type: slot
      name: cabin
      value: business
  utter_photo:
  - image: https://example.org/a.png
  - custom: {kind: card}
    channel: messenger
  utter_file:
  - attachment: https://example.org/a.pdf
actions:
  - action_extras
  - action_lookup: {send_domain: true}
session_config:
  session_expiration_time: 30
  carry_over_slots_to_new_session: false
config:
  store_entities_as_slots: false
"""


def test_every_part_of_a_rasa_3_domain_is_read() -> None:
    d = Domain.from_yaml(FULL, "domain.yml")
    assert list(d.intents) == ["greet", "inform", "chitchat", "book"]
    assert d.intents["inform"].use_entities == ["city"]
    assert d.intents["chitchat"].use_entities == []
    assert d.intents["book"].ignore_entities == ["date"]
    assert d.entities == ["city", "date"]
    assert d.roles == {"city": ["from", "to"]} and d.groups == {"city": ["1", "2"]}
    assert isinstance(d.slots["city"], TextSlot)
    assert d.slots["city"].mappings[0].role == "from"
    assert d.slots["city"].mappings[0].intent == ("inform", "book")
    confirmed = d.slots["confirmed"]
    assert isinstance(confirmed, BooleanSlot) and confirmed.initial_value is False
    assert confirmed.mappings[0].conditions[0].requested_slot == "confirmed"
    assert isinstance(d.slots["seats"], FloatSlot) and d.slots["seats"].max_value == 10
    assert d.slots["seats"].mappings[0].not_intent == ("chitchat",)
    cabin = d.slots["cabin"]
    assert isinstance(cabin, CategoricalSlot) and cabin.values == [
        "economy",
        "business",
        "__other__",
    ]
    assert (
        isinstance(d.slots["extras"], ListSlot)
        and d.slots["extras"].mappings[0].action == "action_extras"
    )
    assert d.slots["raw"].influence_conversation is False
    assert d.forms["travel_form"].ignored_intents == ["chitchat"]
    assert d.forms["travel_form"].required_slots == ["city", "confirmed"]
    assert d.responses["utter_greet"][1]["condition"][0]["name"] == "cabin"
    assert d.user_actions == ["action_extras", "action_lookup"]
    assert d.action_properties["action_lookup"] == {"send_domain": True}
    assert d.session_config.session_expiration_time == 30 and not d.session_config.carry_over_slots
    assert d.store_entities_as_slots is False


def test_actions_are_listed_in_rasa_s_order_with_default_ones_first() -> None:
    d = Domain.from_yaml(FULL)
    names = d.action_names_or_texts
    assert names[0] == "action_listen"
    assert names.index("action_extras") < names.index("travel_form") < names.index("utter_greet")
    assert "requested_slot" in d.all_slots and "session_started_metadata" in d.all_slots


def test_used_entities_follow_use_and_ignore_entities() -> None:
    d = Domain.from_yaml(FULL)
    assert d.used_entities("inform") == {"city", "city#from", "city#to", "city#1", "city#2"}
    assert d.used_entities("chitchat") == set()
    assert "date" not in d.used_entities("book") and "city" in d.used_entities("book")
    assert "date" in d.used_entities("greet")


def test_slot_features_match_rasa_s_featurization() -> None:
    d = Domain.from_yaml(FULL)
    assert d.slots["city"].features("x") == [1.0] and d.slots["city"].features(None) == [0.0]
    assert d.slots["confirmed"].features(True) == [1.0, 1.0]
    assert d.slots["confirmed"].features(False) == [1.0, 0.0]
    assert d.slots["confirmed"].features(None) == [0.0, 0.0]
    assert d.slots["seats"].features(5.5) == [0.5] and d.slots["seats"].features(100) == [1.0]
    assert d.slots["cabin"].features("Business") == [0.0, 1.0, 0.0]
    assert d.slots["cabin"].features("first") == [0.0, 0.0, 1.0]
    assert d.slots["extras"].features([]) == [0.0] and d.slots["extras"].features(["wifi"]) == [1.0]
    assert d.slots["raw"].features("x") == []


def test_a_domain_folder_is_merged_and_duplicates_are_reported(tmp_path: Path) -> None:
    write(
        tmp_path / "domain" / "a.yml",
        "intents: [greet]\nresponses:\n  utter_greet:\n  - text: hi\n",
    )
    write(
        tmp_path / "domain" / "b.yml",
        "intents: [bye]\nresponses:\n  utter_greet:\n  - text: again\n  utter_bye:\n  - text: bye\n",
    )
    with collect() as warnings:
        d = Domain.load(tmp_path / "domain")
    assert list(d.intents) == ["greet", "bye"]
    assert d.responses["utter_greet"] == [{"text": "hi"}]
    assert "utter_bye" in d.responses
    assert [w.code for w in warnings] == ["P133"]
    assert warnings[0].where is not None and warnings[0].where.path is not None
    assert warnings[0].where.path.endswith("b.yml")


def test_a_slot_mapping_of_an_unknown_type_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(SchemaError) as caught:
        Domain.from_yaml(
            "slots:\n  city:\n    type: text\n    mappings:\n    - type: from_entities\n      entity: city\n",
            "domain.yml",
        )
    assert "unknown type 'from_entities'" in caught.value.message
    assert caught.value.hint == "did you mean 'from_entity'?"
    assert str(caught.value.where) == "domain.yml:5:13"


def test_a_from_entity_mapping_needs_an_entity() -> None:
    with pytest.raises(SchemaError, match="needs a 'entity'"):
        Domain.from_yaml(
            "slots:\n  city:\n    type: text\n    mappings:\n    - type: from_entity\n"
        )


def test_a_slot_of_an_unknown_type_is_an_error() -> None:
    with pytest.raises(SchemaError, match="unknown type 'txt'"):
        Domain.from_yaml("slots:\n  city:\n    type: txt\n")
    # a list is not a type either (found by tests/test_file_fuzz.py: it crashed the reader)
    with pytest.raises(SchemaError, match="unknown type"):
        Domain.from_yaml("slots:\n  city:\n    type: [text, bool]\n")


def test_an_any_slot_cannot_influence_the_conversation() -> None:
    with pytest.raises(DomainError, match="cannot influence"):
        Domain.from_yaml(
            "slots:\n  raw:\n    type: any\n    influence_conversation: true\n    mappings: []\n"
        )


def test_a_response_with_an_unknown_key_is_an_error_naming_its_line() -> None:
    with pytest.raises(SchemaError) as caught:
        Domain.from_yaml(
            "responses:\n  utter_greet:\n  - text: hi\n    buton:\n    - title: a\n", "domain.yml"
        )
    assert "unknown key 'buton'" in caught.value.message
    assert caught.value.hint == "did you mean 'buttons'?"
    assert caught.value.where is not None and caught.value.where.line == 4


def test_a_response_without_content_is_an_error() -> None:
    with pytest.raises(SchemaError, match="no content"):
        Domain.from_yaml("responses:\n  utter_x:\n  - channel: slack\n")


def test_a_rasa_2_form_with_slot_mappings_points_to_the_migration() -> None:
    with pytest.raises(DomainError) as caught:
        Domain.from_yaml(
            "forms:\n  f:\n    required_slots:\n      city:\n      - type: from_entity\n        entity: city\n"
        )
    assert "parlez data migrate" in (caught.value.hint or "")


def test_unknown_top_level_keys_are_warnings_not_errors() -> None:
    with collect() as warnings:
        Domain.from_yaml("intents: [greet]\nintnets: [bye]\n")
    assert warnings[0].code == "P131" and warnings[0].hint == "did you mean 'intents'?"


def test_an_empty_domain_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "domain.yml").write_text("\n")
    with pytest.raises(EmptyFileError):
        Domain.load(tmp_path / "domain.yml")


def test_environment_variables_are_expanded_in_the_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS", "Maple Street Studio")
    d = Domain.from_yaml("responses:\n  utter_greet:\n  - text: Welcome to ${BUSINESS}\n")
    assert d.responses["utter_greet"][0]["text"] == "Welcome to Maple Street Studio"


def test_the_domain_serialises_as_rasa_does() -> None:
    data = Domain.from_yaml(FULL).to_dict()
    assert data["intents"][1] == {"inform": {"use_entities": ["city"]}}
    assert data["entities"][0] == {"city": {"roles": ["from", "to"], "groups": ["1", "2"]}}
    assert data["slots"]["cabin"]["values"] == ["economy", "business", "__other__"]
    assert data["forms"]["travel_form"] == {
        "required_slots": ["city", "confirmed"],
        "ignored_intents": ["chitchat"],
    }
    assert data["session_config"] == {
        "session_expiration_time": 30.0,
        "carry_over_slots_to_new_session": False,
    }

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.diagnostics import collect
from parlez.domain import Domain
from parlez.exceptions import MigrationError
from parlez.io.yaml import read_yaml_file
from parlez.migrate import migrate_domain_file
from tests.conftest import write

RASA_2_DOMAIN = """
version: "2.0"
intents:
  - request_restaurant
  - inform
  - affirm
entities:
  - cuisine
  - number
slots:
  cuisine:
    type: text
    influence_conversation: false
  num_people:
    type: float
  outdoor_seating:
    type: bool
    auto_fill: false
  notes:
    type: any
    influence_conversation: false
responses:
  utter_ask_cuisine:
  - text: What cuisine?
forms:
  restaurant_form:
    ignored_intents: [chitchat]
    required_slots:
      cuisine:
      - type: from_entity
        entity: cuisine
      num_people:
      - type: from_entity
        entity: number
        intent: [inform, request_restaurant]
      outdoor_seating:
      - type: from_intent
        intent: affirm
        value: true
      - type: from_text
"""


def test_a_rasa_2_domain_moves_form_mappings_onto_the_slots(tmp_path: Path) -> None:
    domain = write(tmp_path / "domain.yml", RASA_2_DOMAIN)
    with collect() as warnings:
        out, backup = migrate_domain_file(domain)
    assert out == tmp_path / "new_domain.yml" and backup == tmp_path / "original_domain.yml"
    assert backup.read_text() == domain.read_text()
    migrated = read_yaml_file(out)
    assert migrated["version"] == "3.1"
    slots = migrated["slots"]
    # As in Rasa: the form's mapping gains a condition, and auto_fill (on by default) adds an
    # unconditioned one because an entity of the slot's name exists.
    assert slots["cuisine"]["mappings"] == [
        {
            "type": "from_entity",
            "entity": "cuisine",
            "conditions": [{"active_loop": "restaurant_form"}],
        },
        {"type": "from_entity", "entity": "cuisine"},
    ]
    assert slots["num_people"]["mappings"][0]["intent"] == ["inform", "request_restaurant"]
    assert slots["outdoor_seating"]["mappings"] == [
        {
            "type": "from_intent",
            "intent": "affirm",
            "value": True,
            "conditions": [{"active_loop": "restaurant_form", "requested_slot": "outdoor_seating"}],
        },
        {
            "type": "from_text",
            "conditions": [{"active_loop": "restaurant_form", "requested_slot": "outdoor_seating"}],
        },
    ]
    assert "auto_fill" not in slots["outdoor_seating"]
    assert slots["notes"]["mappings"] == [{"type": "custom"}]
    assert [w.code for w in warnings] == ["P171"]
    assert migrated["forms"] == {
        "restaurant_form": {
            "required_slots": ["cuisine", "num_people", "outdoor_seating"],
            "ignored_intents": ["chitchat"],
        }
    }
    Domain.load(out)  # the result is a valid 3.x domain


def test_auto_fill_becomes_a_from_entity_mapping(tmp_path: Path) -> None:
    domain = write(
        tmp_path / "domain.yml",
        'version: "2.0"\nentities: [city]\nslots:\n  city:\n    type: text\n',
    )
    out, _ = migrate_domain_file(domain)
    assert read_yaml_file(out)["slots"]["city"]["mappings"] == [
        {"type": "from_entity", "entity": "city"}
    ]


def test_an_existing_backup_stops_the_migration(tmp_path: Path) -> None:
    domain = write(tmp_path / "domain.yml", RASA_2_DOMAIN)
    (tmp_path / "original_domain.yml").write_text("x: 1\n")
    with pytest.raises(MigrationError, match="already exists"):
        migrate_domain_file(domain)


def test_a_3_x_domain_is_not_migrated_again(tmp_path: Path) -> None:
    domain = write(tmp_path / "domain.yml", 'version: "3.1"\nintents: [greet]\n')
    with pytest.raises(MigrationError, match="already in the Rasa 3 format"):
        migrate_domain_file(domain)


def test_a_domain_folder_is_migrated_file_by_file(tmp_path: Path) -> None:
    write(tmp_path / "domain" / "slots.yml", RASA_2_DOMAIN)
    write(
        tmp_path / "domain" / "responses.yml",
        'version: "2.0"\nresponses:\n  utter_hi:\n  - text: hi\n',
    )
    with collect():
        out, backup = migrate_domain_file(tmp_path / "domain")
    assert sorted(p.name for p in out.iterdir()) == ["responses.yml", "slots.yml"]
    assert sorted(p.name for p in backup.iterdir()) == ["responses.yml", "slots.yml"]
    assert read_yaml_file(out / "responses.yml")["version"] == "3.1"
    Domain.load(out)

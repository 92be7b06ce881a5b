"""Rasa's domain fixtures (`data/test_domains/`) read as Rasa's test_domain expects: a
domain split over files and folders, entity roles, which entities each intent lets the
policies see, and the domain's JSON (`GET /domain`, the action server's `domain`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from parlez.core.training_trackers import story_trackers
from parlez.diagnostics import collect
from parlez.domain import Domain
from parlez.project import DataFiles, read_data_file
from tests.conftest import shared_path

RASA = ("compat", "rasa-3.0.4")


def rasa_data(*parts: str) -> Path:
    return shared_path(*RASA, "data", *parts)


def rasa_test_list(test: str, name: str) -> list[str]:
    """A list a test of Rasa's test_domain.py writes out (`expected_intents = [...]`)."""
    source = shared_path(*RASA, "tests", "shared", "core", "test_domain.py").read_text()
    body = source[source.index(f"def {test}(") :]
    found = re.search(rf"{name} = \[(.*?)\]", body, re.S)
    assert found is not None
    return re.findall(r'"([^"]+)"', found.group(1))


def load(name: str) -> Domain:
    with collect():
        return Domain.load(rasa_data("test_domains", name))


def test_a_domain_in_many_files_has_every_part_of_each() -> None:
    """test_domain_from_multiple_files (Rasa counts its built-in intents among the intents)."""
    domain = load("test_domain_from_multiple_files")
    test = "test_domain_from_multiple_files"
    assert sorted(domain.intent_names) == sorted(rasa_test_list(test, "expected_intents"))
    assert set(domain.entities) == set(rasa_test_list(test, "expected_entities"))
    assert set(domain.all_slots) == set(rasa_test_list(test, "expected_slots"))
    assert set(rasa_test_list(test, "expected_actions")) <= set(domain.action_names_or_texts)
    assert {f.name: f.required_slots for f in domain.forms.values()} == {
        "robot_form": ["propose_simulation", "display_cure_method"]
    }
    assert domain.responses["utter_amazement"] == [{"text": "awesomness!"}]


def test_a_domain_folder_is_read_through_its_subfolders() -> None:
    """test_load_domain_from_directory_tree."""
    domain = load("test_domain_from_directory_tree")
    assert {"utter_root", "utter_root2", "utter_skill_1", "utter_skill_2", "utter_subskill"} <= set(
        domain.intents
    )
    assert set(domain.entities) == {"ball", "chess", "monopoly", "cluedo", "pandemic"}
    assert set(domain.responses) == {"utter_greet", "utter_cheer_up"}


def test_entity_roles_are_the_entitys_own() -> None:
    """test_load_domain_with_entity_roles_groups."""
    domain = load("travel_form.yml")
    assert {"GPE", "name"} <= set(domain.entities)
    assert "name" not in domain.roles
    assert {"origin", "destination"} <= set(domain.roles["GPE"])


def test_retrieval_responses_keep_their_order() -> None:
    """test_retrieval_intent_response_seggregation."""
    domain = load("mixed_retrieval_intents.yml")
    assert [name for name in domain.responses if "/" in name] == [
        "utter_chitchat/ask_weather",
        "utter_chitchat/ask_name",
    ]
    assert any("/" not in name for name in domain.responses)


def test_the_policies_see_the_entities_each_intent_lets_through() -> None:
    """test_create_train_data_unfeaturized_entities: every state of the stories, one at a
    time (max_history 1), with more than one entity blanked as Rasa's test blanks them."""
    domain = load("default_unfeaturized_entities.yml")
    data = DataFiles()
    read_data_file(rasa_data("test_yaml_stories", "stories_unfeaturized_entities.yml"), data)
    trackers = story_trackers(data.stories)
    assert len(trackers) == 2
    seen = set()
    for training in trackers:
        for state in training.tracker(domain).past_states(domain):
            user = state.get("user")
            if user and len(user.get("entities", ())) > 1:
                state = {**state, "user": {**user, "entities": []}}
            seen.add(json.dumps([state], sort_keys=True, default=list))
    assert sorted(seen, reverse=True) == [
        "[{}]",
        '[{"prev_action": {"action_name": "utter_greet"}, "user": {"intent": "greet"}}]',
        '[{"prev_action": {"action_name": "utter_greet"}, "user": {"entities": ["name"], "intent": "greet"}}]',
        '[{"prev_action": {"action_name": "utter_goodbye"}, "user": {"intent": "goodbye"}}]',
        '[{"prev_action": {"action_name": "utter_default"}, "user": {"intent": "why"}}]',
        '[{"prev_action": {"action_name": "utter_default"}, "user": {"intent": "thank"}}]',
        '[{"prev_action": {"action_name": "utter_default"}, "user": {"entities": [], "intent": "default"}}]',
        '[{"prev_action": {"action_name": "utter_default"}, "user": {"entities": [], "intent": "ask"}}]',
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "why"}}]',
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "thank"}}]',
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]',
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "goodbye"}}]',
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"entities": [], "intent": "default"}}]',
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"entities": [], "intent": "ask"}}]',
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"entities": ["name"], "intent": "greet"}}]',
    ]


def seen_entities(props: dict[str, Any], entities: list[str]) -> set[str]:
    """The entities an intent of a domain's JSON lets through, however it writes them (Rasa
    writes the shorter of `use_entities` and `ignore_entities`)."""
    use = props.get("use_entities", True)
    allowed = set(entities) if use is True else set(use or [])
    return allowed - set(props.get("ignore_entities", []))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "default_unfeaturized_entities.yml",
            {
                "ask": {"use_entities": True},
                "default": {"ignore_entities": ["unrelated_recognized_entity"]},
                "goodbye": {"use_entities": []},
                "greet": {"use_entities": ["name"]},
                "pure_intent": {"use_entities": True},
                "thank": {"use_entities": []},
                "why": {"use_entities": []},
            },
        ),
        (
            "default_with_mapping.yml",
            {
                "default": {"triggers": "utter_default", "use_entities": True},
                "goodbye": {"use_entities": True},
                "greet": {"triggers": "utter_greet", "use_entities": True},
            },
        ),
        (
            "travel_form.yml",
            {"greet": {"use_entities": ["name"]}, "inform": {"use_entities": ["GPE"]}},
        ),
        (
            "test_domain_from_directory_for_entities",
            {
                "certify": {"use_entities": True},
                "play": {"use_entities": ["ball", "chess"]},
                "question": {"use_entities": True},
                "stow_away": {"use_entities": True},
                "support_encouraging": {
                    "use_entities": ["anti_freeze_blankets", "automatic_cupcakes"]
                },
                "vacationing": {"ignore_entities": ["tornadoes"]},
            },
        ),
    ],
)
def test_the_domains_json_says_what_rasas_says_of_each_intent(
    name: str, expected: dict[str, dict[str, Any]]
) -> None:
    """test_transform_intents_for_file_*: the same entities let through and the same
    `triggers` for each intent, whichever of the two ways each writes it."""
    dumped = load(name).to_dict()
    entities = [e if isinstance(e, str) else next(iter(e)) for e in dumped["entities"]]
    intents = {k: v for item in dumped["intents"] for k, v in item.items()}
    assert set(intents) == set(expected)
    for intent, props in expected.items():
        assert seen_entities(intents[intent], entities) == seen_entities(props, entities)
        assert intents[intent].get("triggers") == props.get("triggers")

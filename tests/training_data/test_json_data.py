"""JSON training data in any format Rasa reads: each told apart by its keys, a broken one
refused naming its file, and whatever is left out of an export said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parlez.diagnostics import collect
from parlez.exceptions import SchemaError
from parlez.training_data.json_data import read_json_data
from tests.conftest import write


def dump(path: Path, document: Any) -> Path:
    return write(path, json.dumps(document))


def luis(*utterances: dict[str, Any], version: str = "7.0.0") -> dict[str, Any]:
    return {"luis_schema_version": version, "utterances": list(utterances)}


def test_rasas_own_json_is_read_as_before(tmp_path: Path) -> None:
    path = dump(
        tmp_path / "nlu.json",
        {"rasa_nlu_data": {"common_examples": [{"text": "hi", "intent": "greet"}]}},
    )
    assert [(e.text, e.intent) for e in read_json_data(path).examples] == [("hi", "greet")]


def test_json_of_no_known_format_is_refused_naming_the_formats(tmp_path: Path) -> None:
    path = dump(tmp_path / "data" / "settings.json", {"theme": "dark"})
    with pytest.raises(SchemaError) as refused:
        read_json_data(path)
    assert "settings.json" in str(refused.value.where)
    assert "LUIS, Wit.ai or Dialogflow" in refused.value.message


def test_an_export_cut_short_is_refused_naming_its_file(tmp_path: Path) -> None:
    path = dump(
        tmp_path / "app.json",
        luis({"text": "table for two", "intent": "book", "entities": [{"entity": "people"}]}),
    )
    with pytest.raises(SchemaError) as refused:
        read_json_data(path)
    assert "app.json" in str(refused.value.where) and "startPos" in refused.value.message


def test_a_luis_schema_newer_than_7_is_read_and_said(tmp_path: Path) -> None:
    path = dump(tmp_path / "app.json", luis({"text": "hi", "intent": "greet"}, version="8.0.0"))
    with collect() as warnings:
        data = read_json_data(path)
    assert [w.code for w in warnings] == ["P123"] and "8.0.0" in next(iter(warnings)).message
    assert [e.intent for e in data.examples] == ["greet"]


def test_luis_sub_entities_are_said_to_be_left_out(tmp_path: Path) -> None:
    """LUIS's machine-learned entities hold parts (`children`), which Rasa drops silently."""
    child = {"entity": "size", "startPos": 6, "endPos": 10, "children": []}
    order = {"entity": "order", "startPos": 6, "endPos": 16, "children": [child]}
    path = dump(
        tmp_path / "app.json",
        luis({"text": "I'd a large pizza", "intent": "order", "entities": [order]}),
    )
    with collect() as warnings:
        data = read_json_data(path)
    assert [w.code for w in warnings] == ["P123"] and "1 sub-entities" in next(
        iter(warnings)
    ).message
    assert [(e.entity, e.value) for e in data.examples[0].entities] == [("order", "large pizza")]


def test_a_wit_utterance_without_its_entities_list_is_not_an_example(tmp_path: Path) -> None:
    path = dump(
        tmp_path / "wit.json",
        {"utterances": [{"text": "hi", "intent": "greet"}, {"text": "yo", "entities": []}]},
    )
    assert [(e.text, e.intent) for e in read_json_data(path).examples] == [("yo", "out_of_scope")]


def dialogflow_intent(folder: Path, name: str, examples: dict[str, list[str]]) -> Path:
    path = dump(folder / "intents" / f"{name}.json", {"name": name, "responses": []})
    for language, texts in examples.items():
        dump(
            folder / "intents" / f"{name}_usersays_{language}.json",
            [{"data": [{"text": text}]} for text in texts],
        )
    return path


def test_a_dialogflow_intent_is_read_with_its_examples_in_the_language(tmp_path: Path) -> None:
    path = dialogflow_intent(tmp_path, "hi", {"en": ["hello"], "fr": ["bonjour", "salut"]})
    assert [e.text for e in read_json_data(path, "fr").examples] == ["bonjour", "salut"]
    examples = tmp_path / "intents" / "hi_usersays_fr.json"
    assert read_json_data(examples, "fr").examples == []  # read with its intent, not again


def test_a_dialogflow_intent_without_examples_in_the_language_is_said(tmp_path: Path) -> None:
    path = dialogflow_intent(tmp_path, "hi", {"en": ["hello"]})
    with collect() as warnings:
        data = read_json_data(path, "de")
    assert data.examples == []
    assert [w.code for w in warnings] == ["P123"] and "'de'" in next(iter(warnings)).message


def test_a_dialogflow_agents_own_files_hold_nothing_to_train_on(tmp_path: Path) -> None:
    agent = dump(tmp_path / "agent.json", {"language": "en", "supportedLanguages": []})
    package = dump(tmp_path / "package.json", {"version": "1.0.0"})
    assert read_json_data(agent).is_empty() and read_json_data(package).is_empty()


def test_dialogflow_parts_marked_ignore_are_no_entity(tmp_path: Path) -> None:
    dump(tmp_path / "intents" / "move.json", {"name": "move", "responses": []})
    parts = [
        {"text": "to ", "userDefined": False},
        {"text": "paris", "alias": "city", "meta": "@sys.geo-city"},
        {"text": " please", "meta": "@sys.ignore"},
    ]
    dump(tmp_path / "intents" / "move_usersays_en.json", [{"data": parts}])
    (example,) = read_json_data(tmp_path / "intents" / "move.json").examples
    assert example.text == "to paris please"
    assert [e.to_dict() for e in example.entities] == [
        {"start": 3, "end": 8, "value": "paris", "entity": "city"}
    ]


def test_broken_examples_of_a_dialogflow_intent_are_refused_naming_their_file(
    tmp_path: Path,
) -> None:
    path = dialogflow_intent(tmp_path, "hi", {})
    write(tmp_path / "intents" / "hi_usersays_en.json", '[{"data": [')
    with pytest.raises(SchemaError) as refused:
        read_json_data(path)
    assert refused.value.where is not None
    assert str(refused.value.where.path).endswith("hi_usersays_en.json")


def test_a_rasa_file_named_like_dialogflow_entries_is_still_read(tmp_path: Path) -> None:
    path = dump(
        tmp_path / "menu_entries_2024.json",
        {"rasa_nlu_data": {"common_examples": [{"text": "a salad", "intent": "order"}]}},
    )
    assert [e.text for e in read_json_data(path).examples] == ["a salad"]

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.diagnostics import collect
from parlez.exceptions import EntityAnnotationError, SchemaError
from parlez.io.yaml import read_yaml
from parlez.project import DataFiles, read_data_file
from parlez.training_data.example import Entity, Example
from parlez.training_data.nlu_json import read_nlu_json, write_nlu_json
from parlez.training_data.nlu_yaml import read_nlu_section, write_nlu_yaml
from parlez.training_data.training_data import TrainingData
from tests.conftest import nlu_file, write


def read(text: str, path: str = "data/nlu.yml") -> DataFiles:
    files = DataFiles()
    files.nlu = read_nlu_section(read_yaml(text, path)["nlu"])
    return files


def test_block_examples_become_messages_with_their_lines() -> None:
    data = read(
        nlu_file("""
        - intent: greet
          examples: |
            - hi
            - hello there
        """)
    ).nlu
    assert [(m.text, m.intent) for m in data.examples] == [
        ("hi", "greet"),
        ("hello there", "greet"),
    ]
    assert data.examples[1].location is not None and data.examples[1].location.line == 6


def test_examples_as_a_list_carry_their_own_metadata() -> None:
    data = read(
        nlu_file("""
        - intent: greet
          metadata:
            source: web
          examples:
          - text: |
              hi
            metadata:
              sentiment: neutral
          - text: hey
        """)
    ).nlu
    assert data.examples[0].text == "hi"
    # Rasa's shape: the intent's metadata and the example's apart
    assert data.examples[0].metadata == {
        "intent": {"source": "web"},
        "example": {"sentiment": "neutral"},
    }
    assert data.examples[1].metadata == {"intent": {"source": "web"}}
    written = read(nlu_file(write_nlu_yaml(data).split("nlu:\n", 1)[1])).nlu
    assert [e.metadata for e in written.examples] == [e.metadata for e in data.examples]


def test_entities_with_roles_are_read_from_examples() -> None:
    data = read(
        nlu_file("""
        - intent: travel
          examples: |
            - from [Berlin]{"entity": "city", "role": "from"} to [Rome](city)
        """)
    ).nlu
    assert data.examples[0].entities == [
        Entity(5, 11, "Berlin", "city", role="from"),
        Entity(15, 19, "Rome", "city"),
    ]
    assert data.entity_roles == {"city": {"from"}}


def test_synonyms_regexes_and_lookup_tables_are_read() -> None:
    data = read(
        nlu_file(r"""
        - synonym: credit
          examples: |
            - credit card
            - credit account
        - regex: account_number
          examples: |
            - \d{10,12}
        - lookup: banks
          examples: |
            - JPMC
            - Comerica
        """)
    ).nlu
    assert data.entity_synonyms == {"credit card": "credit", "credit account": "credit"}
    assert [(r.name, r.pattern) for r in data.regex_features] == [("account_number", r"\d{10,12}")]
    assert [(t.name, t.elements) for t in data.lookup_tables] == [("banks", ["JPMC", "Comerica"])]


def test_a_lookup_table_can_be_a_file_of_one_element_per_line(tmp_path: Path) -> None:
    write(tmp_path / "data" / "cities.txt", "Paris\nBerlin\n\nRome\n")
    nlu = write(
        tmp_path / "data" / "nlu.yml",
        nlu_file("""
        - lookup: city
          examples: cities.txt
        """),
    )
    files = DataFiles()
    read_data_file(nlu, files)
    assert files.nlu.lookup_tables[0].elements == ["Paris", "Berlin", "Rome"]


def test_retrieval_intents_keep_their_response_key() -> None:
    data = read(
        nlu_file("""
        - intent: faq/ask_hours
          examples: |
            - when are you open?
        """)
    ).nlu
    example = data.examples[0]
    assert (example.intent, example.intent_response_key) == ("faq", "faq/ask_hours")
    assert data.retrieval_intents == {"faq"}


def test_a_line_without_a_dash_is_skipped_with_a_warning() -> None:
    with collect() as warnings:
        data = read(
            nlu_file("""
            - intent: greet
              examples: |
                - hi
                hello
            """)
        ).nlu
    assert [m.text for m in data.examples] == ["hi"]
    assert (
        warnings[0].code == "P112" and warnings[0].where is not None and warnings[0].where.line == 6
    )


def test_an_unbalanced_annotation_names_its_line() -> None:
    with pytest.raises(EntityAnnotationError) as caught:
        read(
            nlu_file("""
            - intent: book
              examples: |
                - a table for two
                - book a [table(location)
            """)
        )
    assert caught.value.where is not None and caught.value.where.line == 6


def test_an_unknown_item_key_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(SchemaError) as caught:
        read(
            nlu_file("""
            - intent: greet
              exmples: |
                - hi
            """)
        )
    assert "'exmples'" in caught.value.message
    assert caught.value.hint == "did you mean 'examples'?"


def test_an_item_without_a_kind_is_an_error() -> None:
    with pytest.raises(SchemaError, match="exactly one of"):
        read(
            nlu_file("""
            - examples: |
                - hi
            """)
        )


def test_an_invalid_regex_is_an_error() -> None:
    with pytest.raises(SchemaError, match="not a valid pattern"):
        read(
            nlu_file("""
            - regex: broken
              examples: |
                - (unclosed
            """)
        )


def test_yaml_written_out_reads_back_the_same() -> None:
    data = read(
        nlu_file(r"""
        - intent: travel
          examples: |
            - from [Berlin]{"entity": "city", "role": "from"} to [NYC](city:New York)
            - yes
        - intent: greet
          examples:
          - text: hi
            metadata:
              sentiment: neutral
        - synonym: New York
          examples: |
            - NYC
        - regex: zip
          examples: |
            - \d{5}
        - lookup: city
          examples: |
            - Berlin
        """)
    ).nlu
    again = read(write_nlu_yaml(data)).nlu
    assert again.examples == data.examples
    assert again.entity_synonyms == data.entity_synonyms
    assert again.regex_features == data.regex_features
    assert again.lookup_tables == data.lookup_tables


def test_an_example_with_a_control_character_is_written_so_it_reads_back() -> None:
    # a customer's message added from the console's review may hold a pasted form feed or
    # U+2028, which YAML does not allow as they are
    data = TrainingData(
        [
            Example(text="form\x0cfeed", intent="inform"),
            Example(text="line\u2028break \x85 here", intent="inform", metadata={"k": "v"}),
        ]
    )
    assert [e.text for e in read(write_nlu_yaml(data)).nlu.examples] == [
        "form\x0cfeed",
        "line\u2028break \x85 here",
    ]


def test_rasa_json_converts_to_yaml_and_back_without_loss() -> None:
    source = """{"rasa_nlu_data": {
        "common_examples": [
            {"text": "fly to Berlin", "intent": "travel",
             "entities": [{"start": 7, "end": 13, "value": "Berlin", "entity": "city"}]},
            {"text": "hi", "intent": "greet"}
        ],
        "regex_features": [{"name": "zip", "pattern": "[0-9]{5}"}],
        "lookup_tables": [{"name": "city", "elements": ["Berlin", "Paris"]}],
        "entity_synonyms": [{"value": "Berlin", "synonyms": ["BER"]}]
    }}"""
    data = read_nlu_json(source)
    via_yaml = read(write_nlu_yaml(data)).nlu
    assert via_yaml.examples == data.examples
    assert read_nlu_json(write_nlu_json(via_yaml)).examples == data.examples
    assert via_yaml.entity_synonyms == {"BER": "Berlin"}


def test_json_without_the_rasa_root_key_is_an_error() -> None:
    with pytest.raises(SchemaError, match="rasa_nlu_data"):
        read_nlu_json('{"common_examples": []}', "data/nlu.json")

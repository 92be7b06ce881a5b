from __future__ import annotations

import torch

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.nlu.classifiers.diet import DIETClassifier
from parlez.nlu.pipeline import Pipeline
from tests.nlu.helpers import data, run, trained

DATA = """
- intent: travel
  examples: |
    - fly from [Berlin]{"entity": "city", "role": "from"} to [Rome]{"entity": "city", "role": "to"}
    - from [Paris]{"entity": "city", "role": "from"} to [Oslo]{"entity": "city", "role": "to"} please
    - a flight to [Madrid]{"entity": "city", "role": "to"} from [Lisbon]{"entity": "city", "role": "from"}
    - I want to go to [Vienna]{"entity": "city", "role": "to"}
    - get me from [Prague]{"entity": "city", "role": "from"} to [Athens]{"entity": "city", "role": "to"}
    - book a trip to [Dublin]{"entity": "city", "role": "to"}
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
    - hey
    - hi bot
- intent: weather
  examples: |
    - what's the weather in [Berlin](city)
    - is it raining in [Oslo](city)
    - weather in [New York](city) tomorrow
    - will it be sunny in [Rome](city)
"""
PIPELINE: list[str | tuple[str, dict[str, object]]] = [
    "WhitespaceTokenizer",
    "LexicalSyntacticFeaturizer",
    "CountVectorsFeaturizer",
    ("CountVectorsFeaturizer", {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4}),
]


def diet(**params: object) -> list[str | tuple[str, dict[str, object]]]:
    return [*PIPELINE, ("DIETClassifier", {"epochs": 60, "random_seed": 7, **params})]


def test_diet_learns_intents_entities_and_roles() -> None:
    pipeline = trained(diet(), DATA)
    message = run(pipeline, "fly from Berlin to Oslo")
    assert message.intent is not None and message.intent["name"] == "travel"
    found = {(e["value"], e["entity"], e.get("role")) for e in message.entities}
    assert found == {("Berlin", "city", "from"), ("Oslo", "city", "to")}
    entity = message.entities[0]
    assert list(entity) == [
        "entity",
        "start",
        "end",
        "confidence_entity",
        "role",
        "value",
        "extractor",
    ]
    assert entity["extractor"] == "DIETClassifier" and 0 < entity["confidence_entity"] <= 1
    assert run(pipeline, "hello").intent["name"] == "greet"  # type: ignore[index]


def test_multi_token_entities_come_back_whole() -> None:
    pipeline = trained(diet(), DATA)
    entities = run(pipeline, "weather in New York tomorrow").entities
    assert [(e["value"], e["start"], e["end"]) for e in entities] == [("New York", 11, 19)]


def test_the_same_random_seed_gives_the_same_model() -> None:
    first = trained(diet(), DATA).steps[-1]
    second = trained(diet(), DATA).steps[-1]
    assert isinstance(first, DIETClassifier) and isinstance(second, DIETClassifier)
    for (name, a), b in zip(
        first.model_.state_dict().items(), second.model_.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_entity_recognition_and_intent_classification_can_be_switched_off() -> None:
    intents_only = trained(diet(entity_recognition=False, epochs=5), DATA)
    message = run(intents_only, "fly from Berlin to Oslo")
    assert message.entities == [] and message.intent is not None
    entities_only = trained(diet(intent_classification=False, epochs=5), DATA)
    assert run(entities_only, "fly from Berlin to Oslo").intent is None


def test_an_annotation_inside_a_word_is_warned_about() -> None:
    items = [
        ComponentConfig(n) if isinstance(n, str) else ComponentConfig(n[0], dict(n[1]))
        for n in diet(epochs=1)
    ]
    with collect() as warnings:
        Pipeline.from_config(items).train(
            data(DATA + "- intent: other\n  examples: |\n    - [Berl](city)in is nice\n")
        )
    assert any(w.code == "P197" and "'Berl'" in w.message for w in warnings)


def test_training_data_helper_reads_roles() -> None:
    assert data(DATA).entity_roles == {"city": {"from", "to"}}

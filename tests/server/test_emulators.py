"""A parse result in wit.ai's, LUIS v3's and Dialogflow's shapes, entities included."""

from __future__ import annotations

from typing import Any

import pytest

from parlez.server.emulators import emulator

PARSED = {
    "text": "from nyc to Paris",
    "intent": {"name": "travel", "confidence": 0.9},
    "intent_ranking": [
        {"name": "travel", "confidence": 0.9},
        {"name": "greet", "confidence": 0.1},
    ],
    "entities": [
        {
            "entity": "city",
            "role": "origin",
            "start": 5,
            "end": 8,
            "value": "New York",
            "confidence": 0.8,
            "extractor": "DIETClassifier",
        },
        {"entity": "city", "start": 12, "end": 17, "value": "Paris"},
    ],
}


def shaped_as(mode: str) -> dict[str, Any]:
    shape = emulator(mode)
    assert shape is not None
    return shape(PARSED)


def test_wit_groups_entities_by_name_and_role_with_the_words_said() -> None:
    shaped = shaped_as("wit")
    assert shaped["intents"] == [PARSED["intent"]]
    origin = shaped["entities"]["city:origin"][0]
    assert origin["body"] == "nyc" and origin["value"] == "New York"
    assert shaped["entities"]["city:city"][0]["role"] == "city"


def test_luis_names_entities_by_role_and_scores_every_intent() -> None:
    shaped = shaped_as("LUIS")
    prediction = shaped["prediction"]
    assert prediction["topIntent"] == "travel"
    assert prediction["intents"] == {"travel": {"score": 0.9}, "greet": {"score": 0.1}}
    assert prediction["entities"]["origin"] == ["New York"]
    assert prediction["entities"]["$instance"]["origin"][0]["length"] == 3
    assert prediction["entities"]["city"] == ["Paris"]


def test_dialogflow_gives_entity_values_as_parameters() -> None:
    shaped = shaped_as("dialogflow")
    result = shaped["queryResult"]
    assert result["parameters"] == {"city": ["New York", "Paris"]}
    assert result["intentDetectionConfidence"] == 0.9


def test_no_mode_is_parlezs_own_shape_and_an_unknown_one_is_refused() -> None:
    assert emulator(None) is None
    with pytest.raises(KeyError):
        emulator("watson")

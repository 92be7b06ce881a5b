"""`/intent{...}` messages read as Rasa reads them: the intent, a confidence after `@`, and
each entity spanning the `{...}` that gives it."""

from __future__ import annotations

import logging

import pytest

from parlez.training_data.shortcut import Shortcut, read_shortcut


def test_a_shortcut_gives_its_intent_confidence_and_entities() -> None:
    text = '/inform@0.8{"city": ["Paris", "Lyon"], "people": 2}'
    assert read_shortcut(text) == Shortcut(
        "inform",
        0.8,
        [
            {"entity": "city", "start": 11, "end": 51, "value": "Paris"},
            {"entity": "city", "start": 11, "end": 51, "value": "Lyon"},
            {"entity": "people", "start": 11, "end": 51, "value": 2},
        ],
    )


@pytest.mark.parametrize("text", ["hello", "/ ", "a /greet", "/{}"])
def test_what_is_not_a_shortcut_is_none(text: str) -> None:
    assert read_shortcut(text) is None


def test_entities_that_are_not_json_are_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert read_shortcut("/inform{city: Paris}") == Shortcut("inform")
    assert "not JSON" in caplog.text

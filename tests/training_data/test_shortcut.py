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


@pytest.mark.parametrize(
    ("text", "read", "said"),
    [
        ("/inform{city: Paris}", Shortcut("inform"), "not a JSON object"),
        ('/inform["city"]', Shortcut("inform"), "not a JSON object"),
        ("/greet@1.0.", Shortcut("greet"), "not 0 to 1"),  # raised ValueError
        ("/greet@123", Shortcut("greet"), "not 0 to 1"),
        ("/greet@-2", Shortcut("greet"), "not 0 to 1"),
        ("/greet@abc0.2", Shortcut("greet"), "not 0 to 1"),
        (" \t /greet@0.25 \t ", Shortcut("greet", 0.25), ""),
    ],
)
def test_what_a_customer_types_after_the_slash_is_read_or_left_out_never_an_error(
    text: str, read: Shortcut, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """test_process_unpacks_attributes_from_single_message_and_fallsback_if_needed."""
    with caplog.at_level(logging.WARNING):
        assert read_shortcut(text) == read
    assert said in caplog.text
    assert bool(said) == bool(caplog.records)

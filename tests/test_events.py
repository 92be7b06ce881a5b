from __future__ import annotations

import json
from typing import Any

import pytest

from parlez.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    EventError,
    LoopInterrupted,
    SlotSet,
    UserUttered,
)

TS = 1700000000.123

# One event dict per Rasa type name, exactly as Rasa 3.x writes it (keys in Rasa's order).
RASA_EVENTS: list[dict[str, Any]] = [
    {
        "event": "user",
        "timestamp": TS,
        "text": "book a table in Paris",
        "parse_data": {
            "intent": {"name": "book", "confidence": 0.97},
            "entities": [{"start": 16, "end": 21, "value": "Paris", "entity": "city"}],
            "text": "book a table in Paris",
            "message_id": "m1",
            "metadata": {},
            "intent_ranking": [{"name": "book", "confidence": 0.97}],
        },
        "input_channel": "rest",
        "message_id": "m1",
        "metadata": {},
    },
    {
        "event": "user",
        "timestamp": TS,
        "metadata": {"page": "/pricing"},
        "text": "hi",
        "parse_data": {
            "intent": {"name": "greet", "confidence": 1.0},
            "entities": [],
            "text": "hi",
            "message_id": None,
            "metadata": {"page": "/pricing"},
        },
        "input_channel": None,
        "message_id": None,
    },
    # With metadata, Rasa's base fields put it right after the timestamp.
    {
        "event": "bot",
        "timestamp": TS,
        "metadata": {"utter_action": "utter_greet"},
        "text": "Hello!",
        "data": {"buttons": [{"title": "Hi", "payload": "/greet"}]},
    },
    {"event": "bot", "timestamp": TS, "text": "Bye", "data": {}, "metadata": {}},
    {
        "event": "action",
        "timestamp": TS,
        "name": "utter_greet",
        "policy": "RulePolicy",
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    },
    {"event": "slot", "timestamp": TS, "name": "city", "value": ["Paris", "Rome"]},
    {"event": "reset_slots", "timestamp": TS},
    {"event": "restart", "timestamp": TS},
    {"event": "rewind", "timestamp": TS},
    {"event": "undo", "timestamp": TS},
    {"event": "followup", "timestamp": TS, "name": "action_check"},
    {"event": "pause", "timestamp": TS},
    {"event": "resume", "timestamp": TS},
    {"event": "active_loop", "timestamp": TS, "name": "booking_form"},
    {"event": "active_loop", "timestamp": TS, "name": None},
    {
        "event": "action_execution_rejected",
        "timestamp": TS,
        "name": "booking_form",
        "policy": None,
        "confidence": None,
    },
    {"event": "session_started", "timestamp": TS},
    {"event": "loop_interrupted", "timestamp": TS, "is_interrupted": True},
    {"event": "entities", "timestamp": TS, "entities": [{"entity": "city", "value": "Paris"}]},
    {"event": "user_featurization", "timestamp": TS, "use_text_for_featurization": False},
    {
        "event": "reminder",
        "timestamp": TS,
        "intent": "remind",
        "date_time": "2026-11-25T10:00:00+00:00",
        "entities": None,
        "name": "r1",
        "kill_on_user_msg": True,
    },
    {"event": "cancel_reminder", "timestamp": TS},
    {"event": "export", "timestamp": TS},
    {"event": "agent", "timestamp": TS, "text": "A person will help you", "data": None},
]


@pytest.mark.parametrize(
    "data", RASA_EVENTS, ids=[f"{d['event']}-{i}" for i, d in enumerate(RASA_EVENTS)]
)
def test_every_rasa_event_round_trips_to_identical_json(data: dict[str, Any]) -> None:
    event = Event.from_dict(data)
    assert event.type_name == data["event"]
    assert json.dumps(event.to_dict()) == json.dumps(data)


def test_every_rasa_event_type_is_covered() -> None:
    rasa_types = {
        "user",
        "bot",
        "action",
        "slot",
        "reset_slots",
        "restart",
        "rewind",
        "undo",
        "followup",
        "pause",
        "resume",
        "active_loop",
        "action_execution_rejected",
        "session_started",
        "loop_interrupted",
        "entities",
        "user_featurization",
        "reminder",
        "cancel_reminder",
        "export",
        "agent",
    }
    assert rasa_types == {d["event"] for d in RASA_EVENTS}


def test_legacy_form_events_are_read_as_active_loop_and_loop_interrupted() -> None:
    assert Event.from_dict({"event": "form", "name": "f", "timestamp": TS}) == ActiveLoop("f")
    legacy = Event.from_dict({"event": "form_validation", "validate": False, "timestamp": TS})
    assert legacy == LoopInterrupted(True)
    assert legacy.to_dict()["event"] == "loop_interrupted"


def test_events_compare_by_content_not_by_timestamp() -> None:
    assert SlotSet("a", 1, timestamp=1.0) == SlotSet("a", 1, timestamp=2.0)
    assert ActionExecuted("utter_greet", policy="A") == ActionExecuted("utter_greet", policy="B")
    assert UserUttered("hi", {"name": "greet"}) != UserUttered("hi", {"name": "bye"})


def test_a_story_user_step_uses_the_intent_and_an_e2e_step_the_text() -> None:
    assert UserUttered(intent={"name": "greet"}).use_text_for_featurization is False
    assert UserUttered(text="hello").use_text_for_featurization is True


def test_an_unknown_event_type_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(EventError) as caught:
        Event.from_dict({"event": "slott", "name": "a"})
    assert "unknown event type 'slott'" in caught.value.message
    assert "slot" in (caught.value.hint or "")


def test_a_malformed_event_is_an_error() -> None:
    with pytest.raises(EventError, match="malformed"):
        Event.from_dict({"event": "slot", "value": 1})
    with pytest.raises(EventError):
        Event.from_dict({"event": "action"})

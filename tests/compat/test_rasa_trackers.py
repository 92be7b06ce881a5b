"""A tracker Rasa dumped (`data/test_trackers/tracker_moodbot.json`) read back as Rasa's
test_trackers expects: the same JSON out as in, to the key, and the same events kept at each
of Rasa's verbosities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parlez.domain import Domain
from parlez.events import ActionExecuted, SessionStarted
from parlez.tracker import DialogueStateTracker
from tests.conftest import shared_path


def rasa_data(*parts: str) -> Path:
    return shared_path("compat", "rasa-3.0.4", "data", *parts)


@pytest.fixture
def dump() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        rasa_data("test_trackers", "tracker_moodbot.json").read_text(encoding="utf-8")
    )
    return loaded


def restored(dump: dict[str, Any]) -> DialogueStateTracker:
    """As Rasa's tests restore it: with the slots of its default test domain."""
    domain = Domain.load(rasa_data("test_domains", "default_with_slots.yml"))
    return DialogueStateTracker.from_dict(
        dump["sender_id"], dump["events"], domain.all_slots.values()
    )


def test_a_dumped_tracker_reads_back_into_the_same_json(dump: dict[str, Any]) -> None:
    """test_read_json_dump."""
    tracker = restored(dump)
    assert len(tracker.events) == 7
    assert tracker.latest_action == {"action_name": "action_listen"}
    assert not tracker.is_paused()
    assert tracker.sender_id == "mysender"
    assert tracker.events[-1].timestamp == 1517821726.211042
    assert tracker.current_state("after_restart") == dump


def test_after_restart_gives_the_events_since_the_restart(dump: dict[str, Any]) -> None:
    """test_current_state_after_restart."""
    dump["events"].insert(3, {"event": "restart"})
    tracker = restored(dump)
    state = tracker.current_state("after_restart")
    assert state["events"] == [e.to_dict() for e in tracker.events[4:]]


def test_all_and_none_give_every_event_and_no_events(dump: dict[str, Any]) -> None:
    """test_current_state_all_events, test_current_state_no_events."""
    dump["events"].insert(3, {"event": "restart"})
    tracker = restored(dump)
    assert tracker.current_state("all")["events"] == [e.to_dict() for e in tracker.events]
    assert tracker.current_state("none")["events"] is None


def test_applied_leaves_out_what_a_restart_rewind_and_undo_took_back(
    dump: dict[str, Any],
) -> None:
    """test_current_state_applied_events."""
    dump["events"].insert(1, {"event": "restart"})
    dump["events"].insert(7, {"event": "rewind"})
    dump["events"].insert(8, {"event": "undo"})
    tracker = restored(dump)
    every = [e.to_dict() for e in tracker.events]
    assert tracker.current_state("applied")["events"] == [every[2], every[9]]


def test_a_session_start_is_not_among_the_applied_events(dump: dict[str, Any]) -> None:
    """test_session_started_not_part_of_applied_events."""
    dump["events"].insert(4, ActionExecuted("action_session_start").to_dict())
    dump["events"].insert(5, SessionStarted().to_dict())
    tracker = restored(dump)
    assert tracker.applied_events() == tracker.events[6:]

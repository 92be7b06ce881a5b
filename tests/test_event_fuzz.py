"""Any event dict either reads as an event that a conversation can apply, store and send
back, or is refused with an EventError: never another exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from parlez.events import Event, EventError
from parlez.slots import TextSlot
from parlez.tracker import DialogueStateTracker
from tests.fuzzing import event_dicts

CI = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CI
@given(event_dicts())
def test_an_event_dict_is_read_or_refused_and_what_is_read_can_be_applied(data: Any) -> None:
    try:
        event = Event.from_dict(data)
    except EventError:
        return
    tracker = DialogueStateTracker("fuzzed", [TextSlot("city", mappings=[])])
    tracker.update(event)
    state = tracker.current_state("all")
    json.dumps(state)  # what the API sends back
    # What is written reads back as the same event, and is written the same way again.
    written = event.to_dict()
    again = Event.from_dict(json.loads(json.dumps(written)))
    assert type(again) is type(event)
    assert again.to_dict() == written

"""What the story writer writes reads back as what was said: a customer's message over
several lines or with spaces at its ends, names YAML would read as something else, entity
values such as `2`, `true` or `null`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parlez.diagnostics import collect
from parlez.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from parlez.io.yaml import read_yaml
from parlez.training_data.stories import read_story_section
from parlez.training_data.story_writer import stories_yaml


def _round_trip(events: list[Event], by_intent: bool = False) -> list[Event]:
    written = stories_yaml([("a story", [(e, None) for e in events])], by_intent=by_intent)
    with collect():
        [block] = read_story_section(read_yaml(written)["stories"], "story")
    return [e for step in block.steps for e in step.events]


def test_a_message_over_several_lines_reads_back_whole() -> None:
    for text in ("first line\nsecond line", "hi\n\nthere", "  padded  ", "ends with a newline\n"):
        [read, _] = _round_trip([UserUttered(text, {"name": "inform"}), ActionExecuted("x")])
        # the story reader strips a message's ends, as Rasa's does
        assert isinstance(read, UserUttered)
        assert (read.text, read.intent_name) == (text.strip(), "inform")


def test_names_and_values_yaml_would_misread_are_quoted() -> None:
    events: list[Event] = [
        UserUttered(
            None,
            {"name": "form: inform"},
            [{"entity": "size", "value": "2"}, {"entity": "answer", "value": "true"}],
        ),
        ActionExecuted("form: some_form"),
        ActiveLoop("null"),
        SlotSet("#tag", "null"),
    ]
    read = _round_trip(events, by_intent=True)
    user, action, loop, slot = read
    assert isinstance(user, UserUttered) and user.intent_name == "form: inform"
    assert [(e["entity"], e["value"]) for e in user.entities] == [("size", "2"), ("answer", "true")]
    assert isinstance(action, ActionExecuted) and action.action_name == "form: some_form"
    assert isinstance(loop, ActiveLoop) and loop.name == "null"
    assert isinstance(slot, SlotSet) and (slot.key, slot.value) == ("#tag", "null")


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(min_size=1, max_size=40).filter(lambda t: "[" not in t and t.strip()),
    intent=st.text(min_size=1, max_size=15).filter(lambda t: "/" not in t and t.strip()),
    value=st.text(min_size=1, max_size=12),
)
def test_any_message_intent_and_value_read_back_as_written(
    text: str, intent: str, value: str
) -> None:
    # control characters, U+2028, quotes and colons included; a "[" would be read as an
    # entity annotation and a "/" as a retrieval intent, as Rasa reads them
    events: list[Event] = [
        UserUttered(text, {"name": "inform"}),
        ActionExecuted("utter_ok"),
        UserUttered(None, {"name": intent.strip()}, [{"entity": "e", "value": value}]),
        ActionExecuted("utter_ok"),
    ]
    said, _, named, _ = _round_trip(events)
    assert isinstance(said, UserUttered) and said.text == text.strip()
    assert isinstance(named, UserUttered) and named.intent_name == intent.strip()
    assert [e["value"] for e in named.entities] == [value]

"""Conversations written as stories as Rasa's test_yaml_story_writer expects: a test story
keeps the customer's words beside the intent, the actions the assistant runs on its own
(`action_session_start`, `action_listen`, `action_unlikely_intent`) are left out, end-to-end
turns are written as `user:` and `bot:`, and what is written reads back as the same events.
parlez writes stories from conversations (a stored conversation, failed test stories,
`parlez interactive`), not from story files, so Rasa's round trips of story files are
checked on their events."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.core.export import conversation_story
from parlez.diagnostics import collect
from parlez.events import ActionExecuted, ActiveLoop, Event, SessionStarted, SlotSet, UserUttered
from parlez.io.yaml import read_yaml
from parlez.tracker import DialogueStateTracker
from parlez.training_data.stories import read_story_section
from parlez.training_data.story_writer import stories_yaml
from tests.conftest import shared_path


def _story_events(text: str) -> list[list[Event]]:
    with collect():
        blocks = read_story_section(read_yaml(text)["stories"], "story")
    return [[e for step in block.steps for e in step.events] for block in blocks]


def _turns(events: list[Event]) -> list[tuple[str | None, ...]]:
    """What a story says of each turn (intent or words, action or bot text)."""
    return [
        (e.text, e.intent_name) if isinstance(e, UserUttered) else (e.action_name, e.action_text)
        for e in events
        if isinstance(e, UserUttered)
        or (isinstance(e, ActionExecuted) and e.action_name != "action_listen")
    ]


def _plain(events: list[Event]) -> list[dict[str, object]]:
    """The events as JSON but for their time; a story's explicit `action_listen` step is
    the wait a next user step implies, and is not written."""
    plain = [e.to_dict() for e in events if e != ActionExecuted("action_listen")]
    for event in plain:
        event.pop("timestamp", None)
    return plain


def test_a_conversation_is_written_with_the_customers_words_and_reads_back() -> None:
    tracker = DialogueStateTracker.from_events(
        "default", [UserUttered("Hello", {"name": "greet"}), ActionExecuted("utter_greet")]
    )
    written = conversation_story(tracker)
    assert "  - user: |-\n      Hello\n    intent: greet\n  - action: utter_greet\n" in written
    [events] = _story_events(written)
    assert [(e.text, e.intent_name) for e in events if isinstance(e, UserUttered)] == [
        ("Hello", "greet")
    ]


def test_actions_the_assistant_runs_on_its_own_are_not_written() -> None:
    tracker = DialogueStateTracker.from_events(
        "default",
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered("Hello", {"name": "greet"}),
            ActionExecuted("utter_hello"),
            ActionExecuted("action_unlikely_intent"),
            ActionExecuted("utter_bye"),
            ActionExecuted("action_listen"),
        ],
    )
    written = conversation_story(tracker)
    for action in ("action_session_start", "action_listen", "action_unlikely_intent"):
        assert action not in written
    assert "  - action: utter_hello\n  - action: utter_bye\n" in written


def test_end_to_end_turns_are_written_as_user_and_bot() -> None:
    events: list[Event] = [
        ActionExecuted("action_listen"),
        UserUttered(None, {"name": "greet"}),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        UserUttered("Hi"),
        ActionExecuted(None, action_text="Hi, I'm a bot."),
        ActionExecuted("action_listen"),
    ]
    written = conversation_story(DialogueStateTracker.from_events("e2e", events))
    assert written.endswith(
        "  - intent: greet\n  - action: utter_greet\n  - user: |-\n      Hi\n"
        '  - bot: "Hi, I\'m a bot."\n'
    )
    [read] = _story_events(written)
    assert _turns(read) == _turns(events)


@pytest.mark.parametrize("name", ["stories_form.yml", "simple_story_with_only_end.yml"])
def test_rasas_stories_written_from_their_events_read_back_the_same(name: str) -> None:
    # Rasa's test_simple_story / test_forms_are_converted: the same events after a round trip
    path: Path = shared_path("compat", "rasa-3.0.4", "data", "test_yaml_stories", name)
    original = _story_events(path.read_text(encoding="utf-8"))
    kinds = {type(e) for story in original for e in story}
    assert {UserUttered, ActionExecuted} < kinds and kinds & {SlotSet, ActiveLoop}
    written = stories_yaml(
        (f"story {index}", [(e, None) for e in events]) for index, events in enumerate(original)
    )
    assert [_plain(s) for s in _story_events(written)] == [_plain(s) for s in original]

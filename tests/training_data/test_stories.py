from __future__ import annotations

import logging

import pytest

from parlez.diagnostics import collect
from parlez.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from parlez.exceptions import SchemaError
from parlez.io.yaml import read_yaml
from parlez.training_data.stories import StoryBlock, read_story_section
from parlez.training_data.story_graph import Conversation, conversations
from tests.conftest import shared_path


def stories(text: str, key: str = "stories") -> list[StoryBlock]:
    return read_story_section(
        read_yaml(text, "data/stories.yml")[key], "story" if key == "stories" else "rule"
    )


def test_story_steps_become_events() -> None:
    [story] = stories("""
stories:
- story: happy path
  steps:
  - intent: inform
    entities:
    - city: Paris
    - date
  - action: utter_ok
  - bot: Have a nice trip!
  - active_loop: booking_form
  - slot_was_set:
    - city: Paris
    - confirmed
  - active_loop: null
""")
    events = [e for step in story.steps for e in step.events]
    assert events == [
        UserUttered(
            intent={"name": "inform", "confidence": 1.0},
            entities=[{"entity": "city", "value": "Paris"}, {"entity": "date", "value": ""}],
        ),
        ActionExecuted("utter_ok"),
        ActionExecuted(action_text="Have a nice trip!"),
        ActiveLoop("booking_form"),
        SlotSet("city", "Paris"),
        SlotSet("confirmed", "filled"),
        ActiveLoop(None),
    ]
    assert story.steps[1].location is not None and story.steps[1].location.line == 9


def test_end_to_end_user_text_keeps_the_intent_and_inline_entities() -> None:
    [story] = stories("""
stories:
- story: e2e
  steps:
  - user: |
      I live in [Berlin](city)
    intent: inform
""")
    [event] = story.steps[0].events
    assert isinstance(event, UserUttered)
    assert event.text == "I live in Berlin"
    assert event.intent_name == "inform"
    assert event.entities == [{"start": 10, "end": 16, "value": "Berlin", "entity": "city"}]


def test_rules_read_condition_conversation_start_and_wait_for_user_input() -> None:
    [rule] = stories(
        """
rules:
- rule: submit
  condition:
  - active_loop: restaurant_form
  - slot_was_set:
    - cuisine: thai
  conversation_start: true
  wait_for_user_input: false
  steps:
  - action: restaurant_form
  - active_loop: null
""",
        key="rules",
    )
    assert rule.is_rule
    assert rule.condition == [ActiveLoop("restaurant_form"), SlotSet("cuisine", "thai")]
    assert rule.conversation_start and not rule.wait_for_user_input


def test_or_steps_give_alternatives_and_checkpoints_join_stories() -> None:
    blocks = stories("""
stories:
- story: start
  steps:
  - intent: greet
  - action: utter_greet
  - checkpoint: greeted
- story: continue
  steps:
  - checkpoint: greeted
  - or:
    - intent: affirm
    - intent: thankyou
  - action: utter_happy
""")
    assert blocks[1].steps[1].alternatives == [
        UserUttered(intent={"name": "affirm", "confidence": 1.0}),
        UserUttered(intent={"name": "thankyou", "confidence": 1.0}),
    ]
    paths = list(conversations(blocks))
    assert len(paths) == 2
    names = [
        [e.action_name if isinstance(e, ActionExecuted) else e.intent_name for e in p.events]
        for p in paths
    ]  # type: ignore[union-attr]
    assert names[0] == [
        "action_listen",
        "greet",
        "utter_greet",
        "action_listen",
        "affirm",
        "utter_happy",
        "action_listen",
    ]
    assert paths[0].story_names == ["start", "continue"]


def actions(conversation: Conversation) -> list[str]:
    """The intents and actions of a conversation, its listens left out."""
    return [
        e.intent_name if isinstance(e, UserUttered) else str(e.action_name)
        for e in conversation.events
        if isinstance(e, UserUttered)
        or (isinstance(e, ActionExecuted) and e.action_name != "action_listen")
    ]


def test_a_checkpoint_loop_goes_round_twice_and_then_leaves() -> None:
    """A loop of checkpoints ("ask again") is trained going round once more (the policies
    learn that it repeats) and leaving after each round, not unrolled 10,000 times."""
    blocks = stories("""
stories:
- story: start
  steps:
  - intent: greet
  - action: utter_greet
  - checkpoint: ask
- story: again
  steps:
  - checkpoint: ask
  - intent: deny
  - action: utter_again
  - checkpoint: ask
- story: out
  steps:
  - checkpoint: ask
  - intent: affirm
  - action: utter_bye
""")
    assert sorted(actions(c) for c in conversations(blocks)) == [
        ["greet", "utter_greet", "affirm", "utter_bye"],
        ["greet", "utter_greet", "deny", "utter_again", "affirm", "utter_bye"],
        [
            "greet",
            "utter_greet",
            "deny",
            "utter_again",
            "deny",
            "utter_again",
            "affirm",
            "utter_bye",
        ],
    ]


def test_a_loop_with_no_way_out_ends_after_its_second_round() -> None:
    blocks = stories("""
stories:
- story: loop
  steps:
  - checkpoint: again
  - intent: greet
  - action: utter_greet
  - checkpoint: again
- story: entry
  steps:
  - intent: hi
  - action: utter_hi
  - checkpoint: again
""")
    [conversation] = conversations(blocks)
    assert actions(conversation) == [
        "hi",
        "utter_hi",
        "greet",
        "utter_greet",
        "greet",
        "utter_greet",
    ]
    assert conversation.events[-1] == ActionExecuted("action_listen")


def test_a_checkpoint_with_slots_continues_only_the_conversations_with_those_values() -> None:
    """Rasa's checkpoint conditions: `slot_was_set` on a checkpoint is a condition of the
    story starting there, not an event."""
    blocks = stories("""
stories:
- story: by phone
  steps:
  - intent: contact
  - slot_was_set:
    - channel: phone
  - checkpoint: contact_given
- story: by mail
  steps:
  - intent: contact
  - slot_was_set:
    - channel: mail
  - checkpoint: contact_given
- story: call back
  steps:
  - checkpoint: contact_given
    slot_was_set:
    - channel: phone
  - action: utter_we_will_call
- story: write back
  steps:
  - checkpoint: contact_given
    slot_was_set:
    - channel: mail
  - action: utter_we_will_write
""")
    assert blocks[2].steps[0].checkpoint == "contact_given"
    assert blocks[2].steps[0].conditions == {"channel": "phone"}
    found = {tuple(c.story_names) for c in conversations(blocks)}
    assert found == {("by phone", "call back"), ("by mail", "write back")}


def test_a_story_no_conversation_reaches_with_its_slots_is_said() -> None:
    text = """
stories:
- story: ask
  steps:
  - intent: greet
  - checkpoint: next
- story: vip
  steps:
  - checkpoint: next
    slot_was_set:
    - tier: gold
  - action: utter_vip
- story: anyone
  steps:
  - checkpoint: next
    slot_was_set:
    - tier
  - action: utter_hello
"""
    with collect() as warnings:
        found = [c.story_names for c in conversations(stories(text))]
    assert found == [["ask", "anyone"]]
    said = {(w.code, w.message.split(":")[0]) for w in warnings}
    assert (
        "P151",
        "the story 'vip' starts at the checkpoint 'next' with tier='gold', which no "
        "conversation reaches with those slot values",
    ) in said
    assert ("P156", "the checkpoint's condition 'tier' has no value") in said


def test_an_unknown_step_key_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(SchemaError) as caught:
        stories("""
stories:
- story: typo
  steps:
  - intnet: greet
""")
    assert caught.value.hint == "did you mean 'intent'?"
    assert caught.value.where is not None and caught.value.where.line == 5


def test_a_story_without_steps_is_an_error() -> None:
    with pytest.raises(SchemaError, match="no 'steps'"):
        stories("stories:\n- story: empty\n")


def test_a_story_ending_at_a_checkpoint_no_story_starts_from_is_kept_as_rasa_keeps_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rasa's own fixtures: its stories_unused_checkpoints.yml gives 2 training trackers (the
    two stories that end at unused checkpoints; the one starting at a checkpoint nobody ends
    at is unreachable), story_with_or_slot_was_set.yml gives 2 (its `or`). Each unmatched
    checkpoint is warned about (P151)."""
    fixtures = shared_path("compat", "rasa-3.0.4", "data", "test_yaml_stories")
    unused = read_yaml((fixtures / "stories_unused_checkpoints.yml").read_text(), "s.yml")
    with caplog.at_level(logging.WARNING, logger="parlez"):
        paths = list(conversations(read_story_section(unused["stories"], "story")))
    assert [p.story_names for p in paths] == [
        ["simple_story_with_end_checkpoint_1"],
        ["simple_story_with_end_checkpoint_2"],
    ]
    assert isinstance(paths[0].events[-1], ActionExecuted)
    assert paths[0].events[-1].action_name == "action_listen"
    warned = [r.getMessage() for r in caplog.records if "which no story" in r.getMessage()]
    assert len(warned) == 3 and any("'check_start'" in w and "never reached" in w for w in warned)
    with_or = read_yaml((fixtures / "story_with_or_slot_was_set.yml").read_text(), "s.yml")
    assert len(list(conversations(read_story_section(with_or["stories"], "story")))) == 2

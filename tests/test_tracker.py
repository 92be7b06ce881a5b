from __future__ import annotations

import json

from parlez.domain import Domain
from parlez.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from parlez.slots import TextSlot
from parlez.tracker import DialogueStateTracker

DOMAIN = Domain.from_yaml("""
intents:
  - greet
  - inform:
      use_entities: [city]
  - request_restaurant
entities:
  - city
  - date
slots:
  city:
    type: text
    mappings:
    - type: from_entity
      entity: city
  note:
    type: text
    influence_conversation: false
    initial_value: none yet
    mappings:
    - type: from_text
forms:
  restaurant_form:
    required_slots: [city]
responses:
  utter_greet:
    - text: hi
  utter_submit:
    - text: done
""")


def listen() -> ActionExecuted:
    return ActionExecuted("action_listen")


def user(
    intent: str, entities: list[dict[str, str]] | None = None, text: str | None = None
) -> UserUttered:
    return UserUttered(
        text=text, intent={"name": intent, "confidence": 1.0}, entities=entities or []
    )


def tracker(*events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("u1", events, DOMAIN.all_slots.values())


def test_slots_start_at_their_initial_values_and_follow_slot_events() -> None:
    t = tracker()
    assert t.slots["note"] == "none yet"
    t.update(SlotSet("city", "Paris"))
    t.update(SlotSet("note", "window seat"))
    assert (t.get_slot("city"), t.get_slot("note")) == ("Paris", "window seat")
    t.update(AllSlotsReset())
    assert (t.get_slot("city"), t.get_slot("note")) == (None, "none yet")


def test_latest_message_bot_utterance_and_action_are_tracked() -> None:
    t = tracker(
        listen(), user("greet", text="hi"), ActionExecuted("utter_greet"), BotUttered("hi there")
    )
    assert t.latest_message is not None and t.latest_message.intent_name == "greet"
    assert t.latest_action_name == "utter_greet"
    assert t.latest_bot_utterance is not None and t.latest_bot_utterance.text == "hi there"


def test_restart_forgets_everything_and_asks_for_a_new_session() -> None:
    t = tracker(listen(), user("greet"), SlotSet("city", "Rome"), Restarted())
    assert t.get_slot("city") is None
    assert t.latest_message is not None and t.latest_message.is_empty()
    assert t.followup_action == "action_session_start"
    assert t.applied_events() == []


def test_a_new_session_starts_from_a_clean_state() -> None:
    t = tracker(
        SlotSet("city", "Rome"), ActionExecuted("action_session_start"), SessionStarted(), listen()
    )
    assert t.get_slot("city") is None
    assert t.applied_events() == [listen()]


def test_rewind_takes_back_the_latest_user_message() -> None:
    t = tracker(
        listen(),
        user("greet", text="hi"),
        ActionExecuted("utter_greet"),
        listen(),
        user("inform", text="Paris"),
        ActionExecuted("action_bad"),
        UserUtteranceReverted(),
    )
    assert t.latest_message is not None and t.latest_message.text == "hi"
    assert t.latest_action_name == "utter_greet"
    assert [type(e).__name__ for e in t.applied_events()] == [
        "ActionExecuted",
        "UserUttered",
        "ActionExecuted",
    ]


def test_undo_takes_back_the_latest_action_and_what_came_after_it() -> None:
    t = tracker(
        listen(),
        user("greet"),
        ActionExecuted("action_set"),
        SlotSet("city", "Oslo"),
        ActionReverted(),
    )
    assert t.get_slot("city") is None
    assert t.latest_action_name == "action_listen"


def test_pause_and_resume() -> None:
    t = tracker(ConversationPaused())
    assert t.is_paused()
    t.update(ConversationResumed())
    assert not t.is_paused()


def test_active_loop_is_validated_rejected_and_interrupted() -> None:
    t = tracker(
        listen(),
        user("request_restaurant"),
        ActionExecuted("restaurant_form"),
        ActiveLoop("restaurant_form"),
    )
    assert t.active_loop_name == "restaurant_form"
    assert t.active_loop["validate"] is True and t.active_loop["rejected"] is False
    assert t.active_loop["trigger_message"]["intent"]["name"] == "request_restaurant"
    t.update(ActionExecutionRejected("restaurant_form"))
    assert t.active_loop["rejected"] is True
    t.update(LoopInterrupted(True))
    assert t.active_loop["validate"] is False
    t.update(ActionExecuted("restaurant_form"))
    assert t.active_loop["validate"] is True and t.active_loop["rejected"] is False
    t.update(ActiveLoop(None))
    assert t.active_loop == {} and t.active_loop_name is None


def test_entities_added_and_featurization_apply_to_the_latest_user_message() -> None:
    t = tracker(listen(), user("inform", text="Paris please"), listen())
    t.update(EntitiesAdded([{"entity": "city", "value": "Paris"}]))
    t.update(DefinePrevUserUtteredFeaturization(True))
    assert t.latest_message is not None
    assert t.latest_message.entities == [{"entity": "city", "value": "Paris"}]
    assert t.latest_message.use_text_for_featurization is True


def test_repeated_form_turns_fold_into_the_form_s_own_steps() -> None:
    t = tracker(
        listen(),
        user("request_restaurant"),
        ActionExecuted("restaurant_form"),
        ActiveLoop("restaurant_form"),
        listen(),
        user("inform"),
        ActionExecuted("restaurant_form"),
        listen(),
        user("inform"),
        ActionExecuted("restaurant_form"),
        ActiveLoop(None),
        ActionExecuted("utter_submit"),
    )
    names = [
        e.action_name if isinstance(e, ActionExecuted) else type(e).__name__
        for e in t.applied_events()
    ]
    assert names == [
        "action_listen",
        "UserUttered",
        "restaurant_form",
        "ActiveLoop",
        "restaurant_form",
        "restaurant_form",
        "ActiveLoop",
        "utter_submit",
    ]


def test_past_states_are_rasa_s_state_dicts_before_each_action() -> None:
    t = tracker(
        listen(),
        user("inform", [{"entity": "city", "value": "Oslo"}, {"entity": "date", "value": "today"}]),
        SlotSet("city", "Oslo"),
        ActionExecuted("restaurant_form"),
        ActiveLoop("restaurant_form"),
    )
    assert t.past_states(DOMAIN) == [
        {},
        {
            "user": {"intent": "inform", "entities": ("city",)},
            "prev_action": {"action_name": "action_listen"},
            "slots": {"city": (1.0,)},
        },
        {
            "user": {"intent": "inform", "entities": ("city",)},
            "prev_action": {"action_name": "restaurant_form"},
            "active_loop": {"name": "restaurant_form"},
            "slots": {"city": (1.0,)},
        },
    ]


def test_end_to_end_messages_are_featurized_by_their_text() -> None:
    t = tracker(listen(), UserUttered(text="I'd like Thai food"))
    assert t.past_states(DOMAIN)[-1] == {
        "user": {"text": "I'd like Thai food"},
        "prev_action": {"action_name": "action_listen"},
    }


def test_the_tracker_json_has_rasa_s_keys_and_round_trips_its_events() -> None:
    events = [
        listen().to_dict(),
        user("greet", text="hi").to_dict(),
        ActionExecuted("utter_greet").to_dict(),
        BotUttered("hi").to_dict(),
        SlotSet("city", "Paris").to_dict(),
    ]
    t = DialogueStateTracker.from_dict("u1", events, [TextSlot("city")])
    state = t.current_state()
    assert list(state) == [
        "sender_id",
        "slots",
        "latest_message",
        "latest_event_time",
        "followup_action",
        "paused",
        "events",
        "latest_input_channel",
        "active_loop",
        "latest_action",
        "latest_action_name",
    ]
    assert json.dumps(state["events"]) == json.dumps(events)
    assert state["slots"] == {"city": "Paris"}
    assert state["latest_message"]["intent"]["name"] == "greet"
    assert state["latest_action_name"] == "utter_greet"
    again = DialogueStateTracker.from_dict("u1", state["events"], [TextSlot("city")])
    assert json.dumps(again.current_state()) == json.dumps(state)

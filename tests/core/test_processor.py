"""MessageProcessor: sessions, the prediction loop, and conversations that must not break."""

from __future__ import annotations

import asyncio
import time

from parlez.channels.channel import UserMessage
from parlez.events import ActionExecuted, SlotSet, UserUttered
from tests.core.helpers import agent, domain, events, say

DOMAIN = """
version: "3.1"
intents: [greet, goodbye, loop]
entities: [city]
slots:
  city:
    type: text
    mappings:
    - type: from_entity
      entity: city
responses:
  utter_greet: [{text: "Hello from {city}!"}]
  utter_goodbye: [{text: "Bye"}]
  utter_again: [{text: "again"}]
  utter_default: [{text: "Sorry, I did not get that."}]
session_config:
  session_expiration_time: 1
  carry_over_slots_to_new_session: true
"""

RULES = """
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: endless
  steps:
  - intent: loop
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
  - action: utter_again
"""


def test_a_new_conversation_starts_a_session_first() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, '/greet{"city": "Lyon"}')
    kinds = [(e["event"], e.get("name")) for e in events(bot)][:4]
    assert kinds == [
        ("action", "action_session_start"),
        ("session_started", None),
        ("action", "action_listen"),
        ("user", None),
    ]


def test_entities_fill_slots_before_the_bot_answers() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    assert say(bot, '/greet{"city": "Lyon"}') == ["Hello from Lyon!"]


def test_an_expired_session_starts_again_and_carries_the_slots_over() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, '/greet{"city": "Lyon"}')
    tracker = asyncio.run(bot.tracker_store.retrieve("user"))
    assert tracker is not None
    # Age the conversation by two minutes (the session lasts one).
    stored = bot.tracker_store._events["user"]  # type: ignore[attr-defined]
    for event in stored:
        event["timestamp"] -= 120
    assert say(bot, "/greet") == ["Hello from Lyon!"]
    starts = [e for e in events(bot) if e["event"] == "session_started"]
    assert len(starts) == 2


def test_a_runaway_loop_is_stopped_and_the_bot_listens() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    answers = say(bot, "/loop")
    assert len(answers) == 10
    assert events(bot)[-1]["name"] == "action_listen"
    assert say(bot, '/greet{"city": "Oslo"}') == ["Hello from Oslo!"]


def test_the_fallback_takes_the_message_back_and_listens() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    assert say(bot, "/goodbye") == ["Sorry, I did not get that."]
    assert say(bot, '/greet{"city": "Rome"}') == ["Hello from Rome!"]


def test_an_unknown_intent_command_still_gets_an_answer() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    assert say(bot, "/no_such_intent") == ["Sorry, I did not get that."]


def test_a_shortcut_is_read_as_rasa_reads_it() -> None:
    """An intent the domain does not list is read as words (no NLU here: no intent), an
    entity it does not list is left out, a confidence that is not one is 1.0; a message that
    raised ValueError ("/greet@1.0.") is answered."""
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, "/no_such_intent")
    say(bot, '/greet@1.0.{"city": "Oslo", "planet": "Mars"}')
    said = [e["parse_data"] for e in events(bot) if e["event"] == "user"]
    assert said[0]["intent"].get("name") is None
    assert said[1]["intent"] == {"name": "greet", "confidence": 1.0}
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in said[1]["entities"]] == [
        ("city", "Oslo", 11, 45)
    ]


def test_a_conversation_of_ten_thousand_events_is_answered() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, '/greet{"city": "Lyon"}')
    store = bot.tracker_store
    tracker = asyncio.run(store.retrieve("user"))
    assert tracker is not None
    now = time.time()
    for index in range(2500):
        tracker.update(
            UserUttered(text="hi", intent={"name": "greet", "confidence": 1.0}, timestamp=now)
        )
        tracker.update(SlotSet("city", f"city {index}", timestamp=now))
        tracker.update(ActionExecuted("utter_greet", timestamp=now))
        tracker.update(ActionExecuted("action_listen", timestamp=now))
    asyncio.run(store.save(tracker))
    assert say(bot, "/greet") == ["Hello from city 2499!"]


def test_a_message_whose_id_the_conversation_has_is_not_answered_again() -> None:
    """Platforms deliver a webhook again when they think it went unanswered; the channel
    gives the platform's id as the message id, and the second delivery changes nothing."""
    bot = agent(domain(DOMAIN), rules=RULES)

    def deliver(message_id: str) -> list[dict[str, object]]:
        message = UserMessage('/greet{"city": "Lyon"}', sender_id="user", message_id=message_id)
        return asyncio.run(bot.handle_message(message))

    assert [m["text"] for m in deliver("mid.1")] == ["Hello from Lyon!"]
    assert deliver("mid.1") == []
    assert [m["text"] for m in deliver("mid.2")] == ["Hello from Lyon!"]
    said = [e for e in events(bot) if e["event"] == "user"]
    assert [e["message_id"] for e in said] == ["mid.1", "mid.2"]

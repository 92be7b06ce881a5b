"""What the knowledge-base action searches for: the customer's words, and the question a
confident topic intent stands for; a button's payload is never the question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.knowledge import question_of


def tracker(text: str, intent: str, confidence: float, **metadata: Any) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "metadata": metadata,
    }
    return Tracker("t", {}, message, [], False, None, {}, "action_listen")


def test_a_confident_topic_intent_adds_its_question() -> None:
    assert question_of(tracker("is a blow dry pricey", "ask_prices", 0.93)) == (
        "is a blow dry pricey",
        "How much do your services cost?",
    )


def test_a_shaky_topic_intent_adds_nothing() -> None:
    # "what is 17 times 23" as ask_prices at 0.63 must not be answered with the price list
    assert question_of(tracker("what is 17 times 23", "ask_prices", 0.63)) == (
        "what is 17 times 23",
        None,
    )


def test_a_button_payload_asks_its_topic_or_its_title() -> None:
    assert question_of(tracker("/ask_hours", "ask_hours", 1.0)) == (
        "What are your opening hours?",
        None,
    )
    assert question_of(tracker("/ask_question", "ask_question", 1.0, display="Parking")) == (
        "Parking",
        None,
    )

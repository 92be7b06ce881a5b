"""What the knowledge-base action searches for: the customer's words as typed, and a
button's topic question; a button's payload is never the question."""

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


def test_typed_words_are_searched_as_they_are_even_for_a_sure_topic_intent() -> None:
    # a dental FAQ's "price of a cleaning" (ask_prices, 0.97) was answered with the studio's
    # price list when the topic's question was searched in its place
    assert question_of(tracker("price of a cleaning", "ask_prices", 0.97)) == (
        "price of a cleaning",
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


def test_words_in_another_language_fall_back_on_their_topic_intents_question() -> None:
    """The English encoder scores "combien coûte une coupe ?" under the French bar; the NLU,
    trained in French, knows it asks about prices: that question is searched next. In the
    knowledge base's own language the words alone are searched."""
    french = tracker("combien coûte une coupe ?", "ask_prices", 0.9)
    assert question_of(french, "fr") == (
        "combien coûte une coupe ?",
        "How much do your services cost?",
    )
    assert question_of(tracker("price of a cleaning", "ask_prices", 0.97), "en") == (
        "price of a cleaning",
        None,
    )
    assert question_of(tracker("c'est où ?", "ask_question", 0.9), "fr") == ("c'est où ?", None)

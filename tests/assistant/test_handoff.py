"""When the assistant hands over by itself: an angry customer, or a second question it
cannot answer. The conversation is paused and the business is told."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parlez.agent import Agent
from tests.assistant.conftest import read_as, texts


def paused(bot: Agent, sender: str) -> bool:
    tracker = asyncio.run(bot.tracker_store.retrieve(sender))
    return tracker is not None and tracker.is_paused()


def notices(studio: Path) -> list[str]:
    return [p.read_text() for p in (studio / "mail").glob("*.eml")]


def test_an_angry_customer_is_handed_to_a_person(bot: Agent, studio: Path) -> None:
    answer = texts(read_as(bot, "this is the worst service ever", "complain", "angry"))
    assert answer == [
        "I'm sorry about this. I'll pass you to a person from the team who can sort it out."
    ]
    assert paused(bot, "angry")
    assert any("A customer wants a person" in n for n in notices(studio))


def test_a_second_unanswered_question_goes_to_a_person(bot: Agent, studio: Path) -> None:
    first = texts(read_as(bot, "what's the capital of peru?", "nlu_fallback", "lost"))
    assert first[0].startswith("I'm sorry, I don't know")
    assert not paused(bot, "lost")
    second = texts(read_as(bot, "can I bring my dog?", "nlu_fallback", "lost"))
    assert second == [
        "I'm still not able to help with that, so I'll pass you to a person from the team."
    ]
    assert paused(bot, "lost")


def test_a_customer_who_declined_a_person_is_not_handed_over(bot: Agent) -> None:
    read_as(bot, "what's the capital of peru?", "nlu_fallback", "alone")
    assert "stays" not in " ".join(texts(read_as(bot, "no thanks", "deny", "alone")))
    again = texts(read_as(bot, "can I bring my dog?", "nlu_fallback", "alone"))
    assert again[0].startswith("I'm sorry, I don't know")
    assert not paused(bot, "alone")

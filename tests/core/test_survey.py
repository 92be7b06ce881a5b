"""The rating asked on any channel: five buttons, then "anything to add?", kept as a
`feedback` event and answered before the NLU and the policies see it."""

from __future__ import annotations

import asyncio
from typing import Any

from parlez.agent import Agent
from parlez.channels.channel import CollectingOutputChannel
from parlez.core.survey import rating_given, rating_question
from parlez.events import FeedbackGiven, SlotSet, UserUttered
from tests.core.helpers import agent, domain, say

DOMAIN = """
version: "3.1"
intents: [greet, goodbye]
slots:
  language: {type: text, mappings: [{type: custom}]}
responses:
  utter_greet: [{text: "Hello"}]
  utter_goodbye: [{text: "Bye"}]
"""
RULES = """
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: goodbye
  steps:
  - intent: goodbye
  - action: utter_goodbye
"""


def asked(bot: Agent, sender: str = "user") -> dict[str, Any]:
    """Send the rating question to `sender`, as the console does when a person resolves."""
    tracker = asyncio.run(bot.tracker_store.get_or_create(sender))
    question = asyncio.run(rating_question(tracker, bot.nlg, "rest"))
    asyncio.run(bot.append_events(sender, [question]))
    return question.message()


def feedback(bot: Agent, sender: str = "user") -> list[FeedbackGiven]:
    tracker = asyncio.run(bot.tracker_store.retrieve(sender))
    assert tracker is not None
    return [e for e in tracker.events if isinstance(e, FeedbackGiven)]


def test_a_button_rates_and_the_comment_after_it_is_kept() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, "/greet")
    question = asked(bot)
    assert question["buttons"][0]["payload"] == '/parlez_rating{"rating": 5}'
    assert say(bot, '/parlez_rating{"rating": 2}') == ["Thank you! Anything to add? (optional)"]
    assert say(bot, "You took ages to answer") == ["Thank you for your feedback!"]
    assert feedback(bot) == [
        FeedbackGiven(rating=2),
        FeedbackGiven(rating=2, comment="You took ages to answer"),
    ]
    # Neither answer was read as a turn of the conversation, and it goes on as before.
    tracker = asyncio.run(bot.tracker_store.retrieve("user"))
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["/greet"]
    assert say(bot, "/greet") == ["Hello"]


def test_the_comment_can_be_skipped() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    asked(bot)
    say(bot, '/parlez_rating{"rating": 5}')
    assert say(bot, "/parlez_rating_skip") == ["Thank you for your feedback!"]
    assert feedback(bot) == [FeedbackGiven(rating=5)]


def test_without_a_question_a_message_is_an_ordinary_one() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, "/greet")
    assert say(bot, "/greet") == ["Hello"]
    assert feedback(bot) == []


def test_the_questions_follow_the_conversations_language() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    asyncio.run(bot.append_events("user", [SlotSet("language", "fr")]))
    assert asked(bot)["text"] == "Comment évaluez-vous cette conversation ?"
    assert say(bot, '/parlez_rating{"rating": 4}') == [
        "Merci ! Quelque chose à ajouter ? (facultatif)"
    ]


def test_the_domain_may_word_the_questions_itself() -> None:
    worded = DOMAIN + (
        '  utter_ask_rating: [{text: "Stars, please!", buttons: '
        '[{title: "Top", payload: "/parlez_rating{\\"rating\\": 5}"}]}]\n'
    )
    bot = agent(domain(worded), rules=RULES)
    question = asked(bot)
    assert question["text"] == "Stars, please!"
    say(bot, '/parlez_rating{"rating": 5}')
    assert feedback(bot) == [FeedbackGiven(rating=5)]


def test_only_a_rating_of_one_to_five_is_one() -> None:
    assert rating_given('/parlez_rating{"rating": 3}') == 3
    assert rating_given('/parlez_rating {"rating": "4"}') == 4
    assert rating_given('/parlez_rating{"rating": 9}') is None
    assert rating_given('/parlez_rating{"rating": "five"}') is None
    assert rating_given("/parlez_rating{broken") is None
    assert rating_given("I'd give you a 5") is None


class WebChatOutput(CollectingOutputChannel):
    """Where the web chat's answers go: it asks for a rating itself ("End the chat")."""

    @classmethod
    def name(cls) -> str:
        return "webchat"


def test_the_assistant_asks_after_its_goodbye_once_a_session() -> None:
    """analytics.yml's `ask_rating_after: [utter_goodbye]`: the question follows the
    goodbye in the same answer, and a second goodbye in the session is not asked again;
    nor is a conversation already rated."""
    bot = agent(domain(DOMAIN), rules=RULES)
    bot.ask_rating_after(["utter_goodbye"])
    assert say(bot, "/greet") == ["Hello"]
    assert say(bot, "/goodbye") == ["Bye", "How would you rate this conversation?"]
    assert say(bot, "/goodbye") == ["Bye"]
    say(bot, "/greet", sender="rated")
    asyncio.run(bot.append_events("rated", [FeedbackGiven(rating=5)]))
    assert say(bot, "/goodbye", sender="rated") == ["Bye"]


def test_the_web_chat_and_a_bot_not_told_to_are_not_asked() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    assert say(bot, "/goodbye") == ["Bye"]  # ask_rating_after not set
    bot.ask_rating_after(["utter_goodbye"])
    answered = asyncio.run(bot.handle_text("/goodbye", "visitor", WebChatOutput()))
    assert [m["text"] for m in answered] == ["Bye"]

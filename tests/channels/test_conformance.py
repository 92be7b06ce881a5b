"""What every messaging channel must do, on each platform's local stand-in: a new channel is
done when it passes here.

Text, buttons, an image and a custom payload reach the customer; a person takes the
conversation over and their reply goes out through the customer's channel; a restart starts
afresh; a forged or unsigned request, a malformed body and a repeated delivery change
nothing; a platform outage is retried, and a lasting one loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.events import BotUttered, ConversationPaused, UserUttered
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.channels.platforms import NAMES, Platform, platform
from tests.core.helpers import agent, domain

pytestmark = pytest.mark.anyio

DOMAIN = """
version: "3.1"
intents: [greet, inform, photo, custom]
entities: [city]
slots:
  city:
    type: text
    mappings:
    - type: from_entity
      entity: city
responses:
  utter_greet:
  - text: "Hello! Where are you?"
    buttons:
    - title: Paris
      payload: '/inform{"city": "Paris"}'
  utter_city: [{text: "You are in {city}."}]
  utter_photo: [{text: "Here it is.", image: "https://example.com/shop.jpg"}]
  utter_custom: [{custom: {text: "A custom message."}}]
"""

RULES = """
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: city
  steps:
  - intent: inform
  - action: utter_city
- rule: photo
  steps:
  - intent: photo
  - action: utter_photo
- rule: custom
  steps:
  - intent: custom
  - action: utter_custom
"""

PARIS = {"title": "Paris", "payload": '/inform{"city": "Paris"}'}


@pytest.fixture(params=NAMES)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Platform, Any, Agent]]:
    with platform(request.param) as chosen:
        bot = agent(domain(DOMAIN), rules=RULES)
        state = ServerState(agent=bot, channels=[chosen.channel()])
        yield chosen, create_app(state), bot


async def said(bot: Agent, conversation: str) -> list[UserUttered]:
    tracker = await bot.tracker_store.retrieve(conversation)
    return [e for e in tracker.events if isinstance(e, UserUttered)] if tracker else []


async def test_text_and_buttons_reach_the_customer_and_a_press_sends_the_payload(
    served: tuple[Platform, Any, Agent],
) -> None:
    chosen, app, _ = served
    assert (await chosen.say(app, 1, "/greet", "c1-1")).status == 200
    assert chosen.texts(1) == ["Hello! Where are you?"]
    assert chosen.buttons(1) == ["Paris"]
    assert (await chosen.press(app, 1, PARIS, "c1-2")).status == 200
    assert chosen.texts(1)[-1] == "You are in Paris."


async def test_an_image_and_a_custom_payload_reach_the_customer(
    served: tuple[Platform, Any, Agent],
) -> None:
    chosen, app, _ = served
    await chosen.say(app, 2, "/photo", "c2-1")
    assert "Here it is." in chosen.texts(2)
    assert chosen.images(2) == ["https://example.com/shop.jpg"]
    await chosen.say(app, 2, "/custom", "c2-2")
    assert chosen.texts(2)[-1] == "A custom message."


async def test_a_person_takes_over_and_their_reply_goes_out_through_the_channel(
    served: tuple[Platform, Any, Agent],
) -> None:
    """As the console does it: pause, and a `bot` event sent as a person to the output of
    the channel the customer last wrote from. Paused, the bot no longer answers."""
    chosen, app, bot = served
    await chosen.say(app, 3, "/greet", "c3-1")
    conversation = chosen.conversation(3)
    tracker = await bot.tracker_store.retrieve(conversation)
    assert tracker is not None
    state: ServerState = app.ctx.state
    output = state.output_channel(tracker.latest_input_channel(), tracker.latest_input_metadata())
    reply = BotUttered("Hi, this is Sam from the shop.", metadata={"sent_by": "sam@example.com"})
    await bot.append_events(conversation, [ConversationPaused(), reply], output)
    assert chosen.texts(3)[-1] == "Hi, this is Sam from the shop."
    await chosen.say(app, 3, "/greet", "c3-2")
    assert chosen.texts(3)[-1] == "Hi, this is Sam from the shop."  # the bot listens
    assert len(await said(bot, conversation)) == 2  # and the message is kept


async def test_a_restart_starts_the_conversation_afresh(
    served: tuple[Platform, Any, Agent],
) -> None:
    chosen, app, bot = served
    await chosen.say(app, 4, '/inform{"city": "Lyon"}', "c4-1")
    await chosen.say(app, 4, "/restart", "c4-2")
    await chosen.say(app, 4, "/inform", "c4-3")
    assert chosen.texts(4) == ["You are in Lyon.", "You are in None."]
    tracker = await bot.tracker_store.retrieve(chosen.conversation(4))
    assert tracker is not None and tracker.get_slot("city") is None


async def test_a_forged_request_and_a_malformed_body_are_refused_and_nothing_is_stored(
    served: tuple[Platform, Any, Agent],
) -> None:
    chosen, app, bot = served
    assert (await chosen.forged(app, 5, "/greet", "c5-1")).status == 403
    assert 400 <= (await chosen.malformed(app)).status < 500
    assert await bot.tracker_store.retrieve(chosen.conversation(5)) is None
    assert chosen.texts(5) == []


async def test_a_repeated_delivery_is_answered_once(served: tuple[Platform, Any, Agent]) -> None:
    chosen, app, bot = served
    await chosen.say(app, 6, "/greet", "c6-1")
    await chosen.say(app, 6, "/greet", "c6-1")
    assert chosen.texts(6) == ["Hello! Where are you?"]
    assert len(await said(bot, chosen.conversation(6))) == 1


async def test_an_outage_is_retried_and_a_lasting_one_loses_nothing(
    served: tuple[Platform, Any, Agent], caplog: pytest.LogCaptureFixture
) -> None:
    chosen, app, bot = served
    await chosen.say(app, 7, "/custom", "c7-0")  # started, and its typing/seen calls made
    chosen.fail([503])
    await chosen.say(app, 7, '/inform{"city": "Oslo"}', "c7-1")
    assert chosen.texts(7)[-1] == "You are in Oslo."
    chosen.fail([503] * 12)
    with caplog.at_level(logging.ERROR, logger="parlez.channels"):
        assert (await chosen.say(app, 8, '/inform{"city": "Rome"}', "c8-1")).status == 200
    assert any(r.levelno == logging.ERROR and "P42" in r.getMessage() for r in caplog.records)
    tracker = await bot.tracker_store.retrieve(chosen.conversation(8))
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == ["You are in Rome."]

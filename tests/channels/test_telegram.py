"""Telegram: updates with the webhook's secret token in, the Bot API out, against a local
server that speaks the Bot API's wire format."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.channels.channel import ChannelConfigError
from parlez.channels.credentials import channels_from_credentials
from parlez.channels.telegram import TelegramInput, callback_data, derived_secret, pressed_payload
from parlez.events import BotUttered, UserUttered
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.fakes.telegram import TOKEN, FakeTelegram, button_update, fake_telegram, text_update

pytestmark = pytest.mark.anyio

WEBHOOK = "/webhooks/telegram/webhook"
SECRET = {"X-Telegram-Bot-Api-Secret-Token": derived_secret(TOKEN)}


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as fake:
        yield fake


@pytest.fixture
def served(small_model: Path, telegram: FakeTelegram) -> tuple[Any, Agent]:
    channel = TelegramInput(
        TOKEN,
        "studio_bot",
        "https://bot.example.com/webhooks/telegram/webhook",
        api_url=telegram.url,
        retry_wait=0.01,
    )
    agent = Agent.load(small_model)
    return create_app(ServerState(agent=agent, channels=[channel])), agent


async def post(app: Any, update: dict[str, Any], headers: dict[str, str] = SECRET) -> Any:
    _, reply = await app.asgi_client.post(WEBHOOK, content=json.dumps(update), headers=headers)
    return reply


async def test_a_message_is_answered_with_an_inline_keyboard_and_a_press_sends_its_payload(
    served: tuple[Any, Agent], telegram: FakeTelegram
) -> None:
    app, agent = served
    assert (await post(app, text_update(1, 501, "hello"))).status == 200
    assert telegram.sent("sendChatAction", "501") == [{"chat_id": "501", "action": "typing"}]
    (greeting,) = telegram.sent("sendMessage", "501")
    assert greeting["text"] == "Hello! Where are you?"
    assert greeting["reply_markup"] == {
        "inline_keyboard": [[{"text": "Paris", "callback_data": '/inform{"city": "Paris"}'}]]
    }
    await post(app, button_update(2, 501, '/inform{"city": "Paris"}'))
    assert telegram.sent("answerCallbackQuery") == [{"callback_query_id": "cq2"}]
    assert telegram.texts("501")[-1] == "You are in Paris."
    tracker = await agent.tracker_store.retrieve("501")
    assert tracker is not None
    first = next(e for e in tracker.events if isinstance(e, UserUttered))
    assert first.message_id == "telegram-1" and first.input_channel == "telegram"
    platform = {"telegram_user_id": 501, "username": "ana", "language_code": "en"}
    # ...and the model that read it, as Rasa 3 stamps it
    assert first.metadata == {**platform, "model_id": agent.model_id}


def test_a_payload_too_long_for_telegram_travels_as_its_number() -> None:
    """Telegram's callback data holds 64 bytes: a knowledge-base entry's payload may not."""
    long = '/ask_question{"kb_entry": "cycleshop-service-booking-and-repairs"}'
    assert callback_data('/inform{"city": "Paris"}', 1) == '/inform{"city": "Paris"}'
    assert callback_data(long, 2) == "#2"
    asked = BotUttered(
        "Which?", {"buttons": [{"title": "A", "payload": "/a"}, {"title": "B", "payload": long}]}
    )
    assert pressed_payload([asked], "#2") == long
    assert pressed_payload([asked, UserUttered("something else")], "#2") is None
    assert pressed_payload([asked], "#3") is None


async def test_an_update_telegram_repeats_is_answered_once(
    served: tuple[Any, Agent], telegram: FakeTelegram
) -> None:
    app, _ = served
    await post(app, text_update(7, 502, "bye"))
    await post(app, text_update(7, 502, "bye"))
    assert telegram.texts("502") == ["Bye"]


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}])
async def test_an_update_without_the_secret_token_is_refused_and_nothing_stored(
    served: tuple[Any, Agent], telegram: FakeTelegram, headers: dict[str, str]
) -> None:
    app, agent = served
    reply = await post(app, text_update(8, 503, "hello"), headers)
    assert reply.status == 403 and reply.json["reason"] == "Forbidden"
    assert await agent.tracker_store.retrieve("503") is None
    assert [method for method, _ in telegram.calls] == ["setWebhook"]  # at start only


@pytest.mark.parametrize("raw", ["{nope", "[]", '{"message": {}}'])
async def test_a_malformed_update_is_a_400(served: tuple[Any, Agent], raw: str) -> None:
    app, _ = served
    _, reply = await app.asgi_client.post(WEBHOOK, content=raw, headers=SECRET)
    assert reply.status == 400


async def test_the_webhook_is_registered_with_its_secret_token_at_start_and_on_request(
    served: tuple[Any, Agent], telegram: FakeTelegram
) -> None:
    app, _ = served
    _, reply = await app.asgi_client.get("/webhooks/telegram/set_webhook")
    assert reply.status == 200
    at_start, asked = telegram.sent("setWebhook")
    assert at_start == asked
    assert asked["url"] == "https://bot.example.com/webhooks/telegram/webhook"
    assert asked["secret_token"] == derived_secret(TOKEN)


async def test_a_bot_api_outage_is_retried_and_a_lasting_one_loses_nothing(
    served: tuple[Any, Agent], telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    app, agent = served
    await app.asgi_client.get("/webhooks/telegram/")  # started: the webhook is registered
    telegram.fail = [502, 502, 429]  # typing fails once (not tried again), the answer twice
    await post(app, text_update(9, 504, "bye"))
    assert telegram.texts("504") == ["Bye"]
    telegram.fail = [502] * 5
    with caplog.at_level(logging.ERROR, logger="parlez.channels.telegram"):
        assert (await post(app, text_update(10, 505, "bye"))).status == 200
    assert any("P422" in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text
    tracker = await agent.tracker_store.retrieve("505")
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == ["Bye"]


def test_rasas_credentials_keys_are_read_and_a_missing_one_is_a_clear_error() -> None:
    settings = {"access_token": TOKEN, "verify": "studio_bot", "webhook_url": "https://x/w"}
    (channel,) = channels_from_credentials({"telegram": settings})
    assert isinstance(channel, TelegramInput) and channel.verify == "studio_bot"
    assert channel.secret_token == derived_secret(TOKEN)
    with pytest.raises(ChannelConfigError, match="needs 'verify', 'webhook_url'"):
        channels_from_credentials({"telegram": {"access_token": TOKEN}})


async def test_a_photo_comes_in_with_its_caption_and_its_file_id_never_a_download_url(
    served: tuple[Any, Agent], telegram: FakeTelegram
) -> None:
    """Telegram's download URLs hold the bot's token: the conversation keeps the file id."""
    app, agent = served
    update = text_update(11, 506, "")
    message = update["message"]
    del message["text"]
    message["caption"] = "bye"
    message["photo"] = [{"file_id": "small", "width": 90}, {"file_id": "large", "width": 1280}]
    assert (await post(app, update)).status == 200
    assert telegram.texts("506") == ["Bye"]
    tracker = await agent.tracker_store.retrieve("506")
    assert tracker is not None
    said = next(e for e in tracker.events if isinstance(e, UserUttered))
    assert said.metadata["attachments"] == [{"type": "photo", "file_id": "large"}]

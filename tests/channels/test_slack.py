"""Slack: signed events and button presses in, the Web API out, against a local server that
speaks the Web API's wire format."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.channels.channel import ChannelConfigError
from parlez.channels.credentials import channels_from_credentials
from parlez.channels.slack import SlackInput
from parlez.events import BotUttered, UserUttered
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.fakes.slack import (
    SIGNING_SECRET,
    TOKEN,
    FakeSlack,
    button_press,
    fake_slack,
    message_event,
    slack_headers,
)

pytestmark = pytest.mark.anyio

WEBHOOK = "/webhooks/slack/webhook"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def serve(model: Path, slack: FakeSlack, **settings: Any) -> tuple[Any, Agent]:
    channel = SlackInput(TOKEN, SIGNING_SECRET, api_url=slack.url, retry_wait=0.01, **settings)
    agent = Agent.load(model)
    return create_app(ServerState(agent=agent, channels=[channel])), agent


@pytest.fixture
def served(small_model: Path, slack: FakeSlack) -> tuple[Any, Agent]:
    return serve(small_model, slack)


async def post(app: Any, raw: bytes, headers: dict[str, str] | None = None) -> Any:
    signed = slack_headers(raw) if headers is None else headers
    _, reply = await app.asgi_client.post(WEBHOOK, content=raw, headers=signed)
    return reply


async def test_slacks_url_check_is_answered_with_its_challenge(served: tuple[Any, Agent]) -> None:
    app, _ = served
    raw = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    reply = await post(app, raw)
    assert reply.status == 200 and reply.json == {"challenge": "c-123"}


async def test_a_message_is_answered_with_block_kit_buttons_and_a_press_sends_the_payload(
    served: tuple[Any, Agent], slack: FakeSlack
) -> None:
    app, agent = served
    assert (await post(app, message_event("U1", "<@B0T> hello", "D1"))).status == 200
    (greeting,) = slack.posted
    assert greeting["channel"] == "D1" and greeting["text"] == "Hello! Where are you?"
    (button,) = greeting["blocks"][1]["elements"]
    assert button["text"]["text"] == "Paris" and button["value"] == '/inform{"city": "Paris"}'
    headers = {**slack_headers(button_press("U1", button["value"], "D1")), **FORM}
    assert (await post(app, button_press("U1", button["value"], "D1"), headers)).status == 200
    assert slack.texts("D1")[-1] == "You are in Paris."
    tracker = await agent.tracker_store.retrieve("U1")
    assert tracker is not None
    first = next(e for e in tracker.events if isinstance(e, UserUttered))
    assert first.text == "hello" and first.message_id == "m1"  # the mention is taken out
    assert first.metadata["slack_channel"] == "D1"


async def test_answers_go_in_the_thread_and_a_thread_can_be_the_conversation(
    small_model: Path, slack: FakeSlack
) -> None:
    app, agent = serve(small_model, slack, use_threads=True, conversation_granularity="thread")
    await post(app, message_event("U2", "bye", "C9", "m2", thread_ts="1764700000.000001"))
    (answer,) = slack.posted
    assert answer["thread_ts"] == "1764700000.000001" and answer["text"] == "Bye"
    assert await agent.tracker_store.retrieve("C9_1764700000.000001") is not None


async def test_an_event_slack_sends_again_is_answered_once(
    served: tuple[Any, Agent], slack: FakeSlack
) -> None:
    app, _ = served
    raw = message_event("U3", "bye", "D3", "m3")
    await post(app, raw)
    retry = {**slack_headers(raw), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await post(app, raw, retry)).status == 200
    assert slack.texts() == ["Bye"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        slack_headers(b"another body"),
        slack_headers(message_event("U4", "hello", "D4", "m4"), secret="guess"),
        slack_headers(message_event("U4", "hello", "D4", "m4"), at=int(time.time()) - 600),
    ],
    ids=["unsigned", "another-body", "wrong-secret", "replayed"],
)
async def test_an_unsigned_forged_or_replayed_request_is_refused_and_nothing_stored(
    served: tuple[Any, Agent], slack: FakeSlack, headers: dict[str, str]
) -> None:
    app, agent = served
    reply = await post(app, message_event("U4", "hello", "D4", "m4"), headers)
    assert reply.status == 403 and reply.json["reason"] == "Forbidden"
    assert await agent.tracker_store.retrieve("U4") is None
    assert slack.posted == []


async def test_the_bots_own_posts_and_edits_are_not_the_customer_speaking(
    served: tuple[Any, Agent], slack: FakeSlack
) -> None:
    app, agent = served
    await post(app, message_event("U5", "hello", "D5", "m5", bot_id="B1"))
    await post(app, message_event("U5", "hello", "D5", "m6", subtype="message_changed"))
    assert slack.posted == [] and await agent.tracker_store.retrieve("U5") is None


@pytest.mark.parametrize("raw", [b"{nope", b"[]", b'{"no": "type"}'])
async def test_a_malformed_body_is_a_400(served: tuple[Any, Agent], raw: bytes) -> None:
    app, _ = served
    assert (await post(app, raw)).status == 400


async def test_a_web_api_outage_is_retried_and_a_lasting_one_loses_nothing(
    served: tuple[Any, Agent], slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    app, agent = served
    slack.fail = [503, 429]
    await post(app, message_event("U6", "bye", "D6", "m7"))
    assert slack.texts("D6") == ["Bye"]
    slack.fail = [500] * 4
    with caplog.at_level(logging.ERROR, logger="parlez.channels.slack"):
        assert (await post(app, message_event("U7", "bye", "D7", "m8"))).status == 200
    assert any("P423" in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text
    tracker = await agent.tracker_store.retrieve("U7")
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == ["Bye"]


def test_rasas_credentials_keys_are_read_and_a_missing_one_is_a_clear_error() -> None:
    settings = {"slack_token": TOKEN, "slack_signing_secret": SIGNING_SECRET, "slack_channel": "C1"}
    (channel,) = channels_from_credentials({"slack": settings})
    assert isinstance(channel, SlackInput) and channel.slack_channel == "C1"
    with pytest.raises(ChannelConfigError, match="needs 'slack_signing_secret'"):
        channels_from_credentials({"slack": {"slack_token": TOKEN}})
    with pytest.raises(ChannelConfigError, match="conversation_granularity"):
        channels_from_credentials({"slack": {**settings, "conversation_granularity": "team"}})

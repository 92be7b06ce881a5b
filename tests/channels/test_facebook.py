"""Facebook Messenger: Meta's signed webhooks in, the Send API out, against a local Graph API
that speaks its wire format."""

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
from parlez.channels.facebook import InstagramInput, MessengerInput, MessengerOutput
from parlez.events import BotUttered, UserUttered
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.fakes.meta import (
    FakeGraph,
    fake_graph,
    message_event,
    postback_event,
    signature,
    signed,
)

pytestmark = pytest.mark.anyio

SECRET = "app-secret"
WEBHOOK = "/webhooks/facebook/webhook"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with fake_graph() as fake:
        yield fake


@pytest.fixture
def served(small_model: Path, graph: FakeGraph) -> tuple[Any, Agent]:
    """The small assistant behind the Messenger channel, sending to the local Graph API."""
    channel = MessengerInput("verify-me", SECRET, graph.token, graph.url, retry_wait=0.01)
    agent = Agent.load(small_model)
    return create_app(ServerState(agent=agent, channels=[channel])), agent


async def post(app: Any, body: dict[str, Any]) -> Any:
    raw, headers = signed(SECRET, body)
    _, reply = await app.asgi_client.post(WEBHOOK, content=raw, headers=headers)
    return reply


async def test_the_webhook_is_verified_with_the_verify_token(served: tuple[Any, Agent]) -> None:
    app, _ = served
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158"}
    _, reply = await app.asgi_client.get(WEBHOOK, params=query)
    assert reply.status == 200 and reply.text == "1158"
    _, wrong = await app.asgi_client.get(WEBHOOK, params={**query, "hub.verify_token": "guess"})
    assert wrong.status == 403 and "1158" not in wrong.text


async def test_a_message_is_answered_through_the_send_api_with_its_buttons(
    served: tuple[Any, Agent], graph: FakeGraph
) -> None:
    app, agent = served
    reply = await post(app, message_event("psid-1", "hello", "m_1"))
    assert reply.status == 200
    # Seen and typing first, then a button template: Messenger's way of showing buttons.
    actions = [r["body"].get("sender_action") for r in graph.requests[:2]]
    assert actions == ["mark_seen", "typing_on"]
    (answer,) = graph.messages("psid-1")
    template = answer["attachment"]["payload"]
    assert template["template_type"] == "button" and template["text"] == "Hello! Where are you?"
    assert template["buttons"] == [
        {"type": "postback", "title": "Paris", "payload": '/inform{"city": "Paris"}'}
    ]
    tracker = await agent.tracker_store.retrieve("psid-1")
    assert tracker is not None
    (said,) = [e for e in tracker.events if isinstance(e, UserUttered)]
    assert said.message_id == "m_1" and said.input_channel == "facebook"
    # ...and the model that read it, as Rasa 3 stamps it
    assert said.metadata == {"psid": "psid-1", "page_id": "1234", "model_id": agent.model_id}


async def test_a_postback_and_a_quick_reply_send_their_payloads(
    served: tuple[Any, Agent], graph: FakeGraph
) -> None:
    app, _ = served
    await post(app, postback_event("psid-2", '/inform{"city": "Paris"}', "m_2"))
    quick = {"quick_reply": {"payload": '/inform{"city": "Rome"}'}}
    await post(app, message_event("psid-2", "Rome", "m_3", **quick))
    assert graph.texts("psid-2") == ["You are in Paris.", "You are in Rome."]


async def test_a_delivery_meta_repeats_is_answered_once(
    served: tuple[Any, Agent], graph: FakeGraph
) -> None:
    app, agent = served
    body = message_event("psid-3", "bye", "m_4")
    assert (await post(app, body)).status == 200
    assert (await post(app, body)).status == 200
    assert graph.texts("psid-3") == ["Bye"]
    tracker = await agent.tracker_store.retrieve("psid-3")
    assert tracker is not None
    assert len([e for e in tracker.events if isinstance(e, UserUttered)]) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature": "sha1=0000"},
    ],
)
async def test_a_request_not_signed_with_the_app_secret_is_refused_and_nothing_stored(
    served: tuple[Any, Agent], graph: FakeGraph, headers: dict[str, str]
) -> None:
    app, agent = served
    raw = json.dumps(message_event("forger", "hello", "m_5")).encode()
    _, reply = await app.asgi_client.post(WEBHOOK, content=raw, headers=headers)
    assert reply.status == 403 and reply.json["reason"] == "Forbidden"
    assert await agent.tracker_store.retrieve("forger") is None
    assert graph.requests == []


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"object": "page"}', b'{"entry": [{"messaging": "hello"}]}', b"[]"],
)
async def test_a_malformed_body_is_a_400_and_nothing_is_stored(
    served: tuple[Any, Agent], graph: FakeGraph, raw: bytes
) -> None:
    app, _ = served
    _, reply = await app.asgi_client.post(WEBHOOK, content=raw, headers=signature(SECRET, raw))
    assert reply.status == 400 and reply.json["reason"] == "BadRequest"
    assert graph.requests == []


async def test_the_pages_own_echoes_and_read_receipts_are_not_the_customer_speaking(
    served: tuple[Any, Agent], graph: FakeGraph
) -> None:
    app, agent = served
    echo = message_event("psid-4", "hello", "m_6", is_echo=True)
    read = message_event("psid-4", "", "m_7")
    read["entry"][0]["messaging"][0] = {"sender": {"id": "psid-4"}, "read": {"watermark": 1}}
    assert (await post(app, echo)).status == 200
    assert (await post(app, read)).status == 200
    assert graph.requests == [] and await agent.tracker_store.retrieve("psid-4") is None


async def test_a_send_api_outage_is_retried_and_a_lasting_one_loses_nothing(
    served: tuple[Any, Agent], graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    app, agent = served
    # seen and typing fail (they are not tried again), then the answer fails twice (500,
    # then 429) and gets through on its third try
    graph.fail = [500, 500, 500, 429]
    await post(app, message_event("psid-5", "bye", "m_8"))
    assert graph.texts("psid-5") == ["Bye"]
    # Down for every attempt: logged, and the answer is kept in the conversation.
    graph.fail = [503] * 6
    with caplog.at_level(logging.ERROR, logger="parlez.channels.facebook"):
        reply = await post(app, message_event("psid-6", "bye", "m_9"))
    assert reply.status == 200
    assert any("P420" in r.getMessage() for r in caplog.records)
    assert "page-token" not in caplog.text  # the token never reaches a log
    tracker = await agent.tracker_store.retrieve("psid-6")
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == ["Bye"]


def test_rasas_credentials_keys_are_read_and_a_missing_one_is_a_clear_error() -> None:
    (channel,) = channels_from_credentials(
        {"facebook": {"verify": "v", "secret": "s", "page-access-token": "t"}}
    )
    assert isinstance(channel, MessengerInput) and channel.page_access_token == "t"
    with pytest.raises(ChannelConfigError, match="needs 'secret', 'page-access-token'"):
        channels_from_credentials({"facebook": {"verify": "v"}})


def test_rasas_channels_that_are_not_served_are_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rasa's own demos list `rasa:` (Rasa X's channel): the project still starts."""
    with caplog.at_level(logging.WARNING, logger="parlez.channels.credentials"):
        found = channels_from_credentials(
            {"rasa": {"url": "http://x"}, "rest": {}, "mattermost": {}}
        )
    assert [c.name() for c in found] == ["rest"]
    warned = [r.getMessage() for r in caplog.records if "P411" in r.getMessage()]
    assert len(warned) == 2 and "'rasa'" in warned[0]


async def test_instagram_comes_over_the_same_platform_with_quick_replies_for_buttons(
    small_model: Path, graph: FakeGraph
) -> None:
    """Instagram has no button template: the greeting's button is a quick reply. A story
    reply carries its story, and an ice breaker is a postback."""
    channel = InstagramInput("verify-me", SECRET, graph.token, graph.url, retry_wait=0.01)
    agent = Agent.load(small_model)
    app = create_app(ServerState(agent=agent, channels=[channel]))
    body = message_event("igsid-1", "hello", "ig_1")
    body["object"] = "instagram"
    story = {"story": {"url": "https://lookaside.example/story.jpg", "id": "17890"}}
    body["entry"][0]["messaging"][0]["message"]["reply_to"] = story
    raw, headers = signed(SECRET, body)
    _, reply = await app.asgi_client.post(
        "/webhooks/instagram/webhook", content=raw, headers=headers
    )
    assert reply.status == 200
    (greeting,) = graph.messages("igsid-1")
    assert greeting["text"] == "Hello! Where are you?"
    assert greeting["quick_replies"] == [
        {"content_type": "text", "title": "Paris", "payload": '/inform{"city": "Paris"}'}
    ]
    tracker = await agent.tracker_store.retrieve("igsid-1")
    assert tracker is not None
    said = next(e for e in tracker.events if isinstance(e, UserUttered))
    assert said.input_channel == "instagram" and said.metadata["story_reply"] == story["story"]
    ice_breaker = postback_event("igsid-1", '/inform{"city": "Paris"}', "ig_2")
    ice_breaker["object"] = "instagram"
    raw, headers = signed(SECRET, ice_breaker)
    await app.asgi_client.post("/webhooks/instagram/webhook", content=raw, headers=headers)
    assert graph.texts("igsid-1")[-1] == "You are in Paris."


@pytest.mark.parametrize(
    ("hours_ago", "sent"),
    [
        (2, {"messaging_type": "RESPONSE"}),
        (30, {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
        (8 * 24, None),
    ],
    ids=["within-24h", "within-7-days", "too-late"],
)
async def test_a_persons_reply_respects_messengers_windows(
    graph: FakeGraph, caplog: pytest.LogCaptureFixture, hours_ago: int, sent: dict[str, str] | None
) -> None:
    """Within 24 hours of the customer's last message anything may be sent; a person's reply
    later needs the HUMAN_AGENT tag, which allows 7 days; after that it is not sent (P424)."""
    output = MessengerOutput(graph.token, graph.url, retry_wait=0.01)
    wrote = time.time() - hours_ago * 3600
    reply = {"text": "Hi, Sam here.", "sent_by": "sam@example.com", "customer_wrote_at": wrote}
    with caplog.at_level(logging.WARNING, logger="parlez.channels.facebook"):
        await output.send_response("psid-9", reply)
    if sent is None:
        assert graph.requests == [] and "P424" in caplog.text
    else:
        (request,) = graph.requests
        assert {k: request["body"].get(k) for k in sent} == sent
        assert request["body"]["message"] == {"text": "Hi, Sam here."}


@pytest.mark.parametrize(
    ("attachment", "sent"),
    [
        (
            {"type": "file", "payload": {"url": "https://example.com/menu.pdf"}},
            ("file", "https://example.com/menu.pdf"),
        ),
        (
            {"type": "video", "payload": {"url": "https://example.com/tour.mp4"}},
            ("video", "https://example.com/tour.mp4"),
        ),
        ("https://example.com/price-list.pdf", ("file", "https://example.com/price-list.pdf")),
    ],
)
async def test_an_attachment_response_is_sent_as_a_messenger_file(
    graph: FakeGraph, attachment: Any, sent: tuple[str, str]
) -> None:
    output = MessengerOutput(graph.token, graph.url, retry_wait=0.01)
    await output.send_response("psid-10", {"attachment": attachment})
    (message,) = graph.messages("psid-10")
    assert (message["attachment"]["type"], message["attachment"]["payload"]["url"]) == sent

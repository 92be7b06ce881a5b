"""SMS and WhatsApp through Twilio: signed webhooks in, Twilio's REST API out through the real
`twilio` SDK, against a local server that speaks Twilio's wire format."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.channels.channel import ChannelConfigError
from parlez.channels.credentials import channels_from_credentials
from parlez.channels.twilio import TwilioInput, chunks, status_url
from parlez.events import BotUttered, DeliveryReported, UserUttered
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.fakes.twilio import ACCOUNT, TOKEN, FakeTwilio, fake_twilio, sms, twilio_signature

pytestmark = pytest.mark.anyio

WEBHOOK = "/webhooks/twilio/webhook"
PUBLIC = "https://bot.example.com/webhooks/twilio/webhook"  # the URL Twilio is given
STATUS = "https://bot.example.com/webhooks/twilio/status"
NUMBER = "+15550001111"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as fake:
        yield fake


@pytest.fixture
def served(small_model: Path, twilio: FakeTwilio) -> tuple[Any, Agent]:
    channel = TwilioInput(
        ACCOUNT, TOKEN, NUMBER, webhook_url=PUBLIC, api_url=twilio.url, retry_wait=0.01
    )
    agent = Agent.load(small_model)
    return create_app(ServerState(agent=agent, channels=[channel])), agent


async def post(app: Any, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    signed = twilio_signature(PUBLIC, form) if headers is None else headers
    _, reply = await app.asgi_client.post(WEBHOOK, data=form, headers=signed)
    return reply


async def said(agent: Agent, sender: str) -> list[UserUttered]:
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker is not None
    return [e for e in tracker.events if isinstance(e, UserUttered)]


async def test_an_sms_is_answered_through_twilios_api_with_numbered_buttons(
    served: tuple[Any, Agent], twilio: FakeTwilio
) -> None:
    app, agent = served
    reply = await post(app, sms("+447700900001", "hello", "SM1"))
    assert reply.status == 200 and "<Response" in reply.text
    (sent,) = twilio.sent
    assert sent["To"] == "+447700900001" and sent["From"] == NUMBER
    assert sent["Body"] == "Hello! Where are you?\n1. Paris"
    (message,) = await said(agent, "+447700900001")
    assert message.message_id == "SM1" and message.input_channel == "twilio"
    assert message.metadata["phone"] == "+447700900001" and not message.metadata["whatsapp"]
    # "1" answers the numbered choice: the button's payload is sent
    await post(app, sms("+447700900001", "1", "SM2"))
    assert twilio.bodies()[-1] == "You are in Paris."


async def test_a_whatsapp_customer_is_answered_from_the_whatsapp_sender(
    served: tuple[Any, Agent], twilio: FakeTwilio
) -> None:
    app, _ = served
    await post(app, sms("whatsapp:+447700900002", "bye", "SM3", to=f"whatsapp:{NUMBER}"))
    assert [(m["To"], m["From"], m["Body"]) for m in twilio.sent] == [
        ("whatsapp:+447700900002", f"whatsapp:{NUMBER}", "Bye")
    ]


async def test_a_delivery_twilio_repeats_is_answered_once(
    served: tuple[Any, Agent], twilio: FakeTwilio
) -> None:
    app, agent = served
    form = sms("+447700900003", "bye", "SM4")
    await post(app, form)
    await post(app, form)
    assert twilio.bodies() == ["Bye"]
    assert len(await said(agent, "+447700900003")) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Twilio-Signature": "bm90IGl0"}, twilio_signature(PUBLIC, sms("+1", "x", "SM0"))],
)
async def test_a_request_twilio_did_not_sign_is_refused_and_nothing_stored(
    served: tuple[Any, Agent], twilio: FakeTwilio, headers: dict[str, str]
) -> None:
    """No signature, a made-up one, and a real signature of another message."""
    app, agent = served
    reply = await post(app, sms("+447700900004", "hello", "SM5"), headers)
    assert reply.status == 403 and reply.json["reason"] == "Forbidden"
    assert await agent.tracker_store.retrieve("+447700900004") is None
    assert twilio.sent == []


async def test_a_signature_for_another_url_is_refused(
    small_model: Path, twilio: FakeTwilio
) -> None:
    """Without `webhook_url`, the URL checked is the request's own as the proxy forwards it."""
    channel = TwilioInput(ACCOUNT, TOKEN, NUMBER, api_url=twilio.url, retry_wait=0.01)
    app = create_app(ServerState(agent=Agent.load(small_model), channels=[channel]))
    form = sms("+447700900005", "bye", "SM6")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.example.com"}
    _, right = await app.asgi_client.post(
        WEBHOOK, data=form, headers={**forwarded, **twilio_signature(PUBLIC, form)}
    )
    assert right.status == 200 and twilio.bodies() == ["Bye"]
    # ...and the answer's reports are asked for at that URL's `/status` sibling.
    assert twilio.sent[0]["StatusCallback"] == STATUS
    other = twilio_signature("https://elsewhere.example.com/webhooks/twilio/webhook", form)
    _, wrong = await app.asgi_client.post(WEBHOOK, data=form, headers={**forwarded, **other})
    assert wrong.status == 403


async def test_a_body_without_a_sender_is_a_400(served: tuple[Any, Agent]) -> None:
    app, _ = served
    form = {"Body": "hello", "MessageSid": "SM7"}
    assert (await post(app, form)).status == 400


async def test_after_stop_messages_are_kept_and_not_answered_until_start(
    served: tuple[Any, Agent], twilio: FakeTwilio
) -> None:
    app, agent = served
    customer = "+447700900006"
    await post(app, sms(customer, "STOP", "SM8"))
    await post(app, sms(customer, "hello", "SM9"))
    assert twilio.sent == []  # Twilio itself confirms the opt-out
    await post(app, sms(customer, "Start", "SM10"))
    await post(app, sms(customer, "bye", "SM11"))
    assert twilio.bodies() == ["Bye"]
    assert [m.text for m in await said(agent, customer)] == ["STOP", "hello", "Start", "bye"]
    # A "yes" from someone who never opted out answers the assistant, as any message does.
    await post(app, sms("+447700900016", "yes", "SM15"))
    assert len(twilio.bodies("+447700900016")) == 1


async def test_media_comes_in_as_its_url_and_long_texts_go_out_in_pieces(
    served: tuple[Any, Agent], twilio: FakeTwilio
) -> None:
    app, agent = served
    photo = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME1"}
    photo["MediaContentType0"] = "image/jpeg"
    await post(app, sms("+447700900007", "", "SM12", **photo))
    (message,) = await said(agent, "+447700900007")
    assert message.text == "https://api.twilio.com/media/ME1"
    assert message.metadata["media"] == [
        {"url": "https://api.twilio.com/media/ME1", "content_type": "image/jpeg"}
    ]
    words = " ".join(["word"] * 700)  # 3,499 characters
    assert [len(piece) for piece in chunks(words)] == [1599, 1599, 299]
    assert " ".join(chunks(words)) == words


async def test_a_twilio_outage_is_retried_and_a_lasting_one_loses_nothing(
    served: tuple[Any, Agent], twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    app, agent = served
    twilio.fail = [503, 429]
    await post(app, sms("+447700900008", "bye", "SM13"))
    assert twilio.bodies() == ["Bye"]
    twilio.fail = [500] * 4
    with caplog.at_level(logging.ERROR, logger="parlez.channels.twilio"):
        reply = await post(app, sms("+447700900009", "bye", "SM14"))
    assert reply.status == 200
    assert any("P421" in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text
    tracker = await agent.tracker_store.retrieve("+447700900009")
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == ["Bye"]


def report(sid: str, status: str, to: str, **extra: str) -> dict[str, str]:
    """The form Twilio POSTs to a message's status callback."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": ACCOUNT,
        "From": NUMBER,
        "To": to,
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def post_report(app: Any, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    signed = twilio_signature(STATUS, form) if headers is None else headers
    _, reply = await app.asgi_client.post("/webhooks/twilio/status", data=form, headers=signed)
    return reply


async def reports(agent: Agent, customer: str) -> list[tuple[str, str, str | None]]:
    tracker = await agent.tracker_store.retrieve(customer)
    assert tracker is not None
    return [
        (e.message_id, e.status, e.error) for e in tracker.events if isinstance(e, DeliveryReported)
    ]


async def test_each_answer_asks_twilio_to_report_its_fate_next_to_the_webhook(
    served: tuple[Any, Agent], twilio: FakeTwilio
) -> None:
    app, _ = served
    await post(app, sms("+447700900020", "bye", "SM20"))
    assert [m["StatusCallback"] for m in twilio.sent] == [STATUS]


async def test_delivery_reports_land_in_the_conversation_once_and_earlier_steps_are_not_kept(
    served: tuple[Any, Agent], twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    app, agent = served
    customer = "+447700900021"
    await post(app, sms(customer, "hello", "SM21"))
    await post(app, sms(customer, "1", "SM22"))
    for form in [
        report("SM900", "queued", customer),
        report("SM900", "sent", customer),
        report("SM900", "delivered", customer),
        report("SM900", "delivered", customer),  # Twilio repeats a report
        report("SM900", "read", customer),
    ]:
        assert (await post_report(app, form)).status == 204
    with caplog.at_level(logging.WARNING, logger="parlez.channels.twilio"):
        failed = report("SM901", "undelivered", customer, ErrorCode="30007")
        assert (await post_report(app, failed)).status == 204
    assert await reports(agent, customer) == [
        ("SM900", "delivered", None),
        ("SM900", "read", None),
        ("SM901", "undelivered", "30007"),
    ]
    assert any("P425" in r.getMessage() and "30007" in r.getMessage() for r in caplog.records)
    # The conversation goes on as before: the reports are not the customer speaking.
    await post(app, sms(customer, "bye", "SM23"))
    assert twilio.bodies(customer)[-1] == "Bye"


async def test_a_report_of_no_conversation_is_acknowledged_and_starts_none(
    served: tuple[Any, Agent],
) -> None:
    app, agent = served
    reply = await post_report(app, report("SM902", "delivered", "+447700900022"))
    assert reply.status == 204
    assert await agent.tracker_store.retrieve("+447700900022") is None


@pytest.mark.parametrize(
    ("form", "headers", "status"),
    [
        (report("SM903", "failed", "+447700900023"), {}, 403),
        (
            report("SM903", "failed", "+447700900023"),
            twilio_signature(PUBLIC, report("SM903", "failed", "+447700900023")),
            403,
        ),
        ({"MessageSid": "SM903", "MessageStatus": "failed"}, None, 400),
        ({"MessageSid": "SM903", "To": "+447700900023"}, None, 400),
    ],
    ids=["unsigned", "signed-for-the-message-webhook", "no-To", "no-status"],
)
async def test_a_forged_or_malformed_report_is_refused_and_nothing_stored(
    served: tuple[Any, Agent],
    form: dict[str, str],
    headers: dict[str, str] | None,
    status: int,
) -> None:
    app, agent = served
    customer = "+447700900023"
    await post(app, sms(customer, "hello", "SM24"))
    assert (await post_report(app, form, headers)).status == status
    assert await reports(agent, customer) == []


def test_the_status_url_sits_next_to_the_webhook() -> None:
    assert status_url(PUBLIC) == STATUS
    assert status_url(PUBLIC + "?tenant=1") == STATUS + "?tenant=1"
    assert status_url("https://bot.example.com/sms") is None  # not ours to guess
    assert status_url(None) is None


def test_rasas_credentials_keys_are_read_and_a_missing_one_is_a_clear_error() -> None:
    settings = {"account_sid": ACCOUNT, "auth_token": TOKEN, "twilio_number": NUMBER}
    (channel,) = channels_from_credentials({"twilio": settings})
    assert isinstance(channel, TwilioInput) and channel.twilio_number == NUMBER
    with pytest.raises(ChannelConfigError, match="needs 'auth_token', 'twilio_number'"):
        channels_from_credentials({"twilio": {"account_sid": ACCOUNT}})

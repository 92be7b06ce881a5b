"""The assistant on the phone: a caller asking for a person is put through to the business's
number, and given back to the assistant when nobody answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.agent import Agent
from parlez.channels.twilio_voice import TwilioVoiceInput
from parlez.events import CallStep, SlotSet
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.fakes.twilio import TOKEN
from tests.fakes.twilio_voice import PhoneCall, asgi_post

pytestmark = pytest.mark.anyio

PUBLIC = "https://studio.example.com"
WEBHOOK = f"{PUBLIC}/webhooks/twilio_voice/webhook"
CALLER = "+447700900555"
STUDIO_PHONE = "+442079460321"  # contact.phone of business.yml, as dialled


@pytest.fixture
def phone(bot: Agent) -> PhoneCall:
    channel = TwilioVoiceInput(
        TOKEN,
        initial_prompt="/greet",  # the tests run without NLU
        webhook_url=WEBHOOK,
    )
    app = create_app(ServerState(agent=bot, channels=[channel]))
    return PhoneCall(asgi_post(app, PUBLIC), WEBHOOK, caller=CALLER)


async def steps(bot: Agent) -> list[CallStep]:
    tracker = await bot.tracker_store.retrieve(CALLER)
    assert tracker is not None
    return [e for e in tracker.events if isinstance(e, CallStep)]


async def test_a_caller_asking_for_a_person_is_put_through_to_the_studio(
    phone: PhoneCall, bot: Agent, studio: Path
) -> None:
    greeting = await phone.ring()
    assert greeting.said[0].startswith("Hello! I'm the assistant")
    answer = await phone.say("/request_human")
    assert answer.said == ["I'm putting you through to a person from the team now, please hold."]
    assert answer.dialled == STUDIO_PHONE and not answer.listening
    assert phone.url == f"{PUBLIC}/webhooks/twilio_voice/dial"
    # The team is told, with the caller's number to call back.
    (notice,) = (studio / "mail").glob("*.eml")
    assert CALLER in notice.read_text()
    after = await phone.dial_result("completed", duration=95)
    assert after.hung_up and after.said == []
    transfer, result = [s for s in await steps(bot) if s.step.startswith("transfer")]
    assert transfer.details == {"to": STUDIO_PHONE, "unanswered": "utter_transfer_failed"}
    assert result.details == {"status": "completed", "duration": 95}
    await phone.hang_up(duration=140)
    ended = (await steps(bot))[-1]
    assert ended.step == "ended" and ended.details["with_person"] is True


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
async def test_nobody_answering_gives_the_caller_back_to_the_assistant(
    phone: PhoneCall, bot: Agent, knowledge_base: Path, status: str
) -> None:
    await phone.ring()
    await phone.say("/request_human")
    answer = await phone.dial_result(status)
    assert answer.said[0].startswith("I'm sorry, nobody from the team can take your call")
    assert answer.listening and phone.url == WEBHOOK
    tracker = await bot.tracker_store.retrieve(CALLER)
    assert tracker is not None and not tracker.is_paused()
    # ...and the assistant answers again.
    hours = await phone.say("/ask_hours")
    assert "09:00" in hours.text


def without_phone(studio: Path) -> None:
    settings = studio / "business.yml"
    settings.write_text(settings.read_text().replace('  phone: "+44 20 7946 0321"\n', ""))


async def test_without_the_studios_number_the_channels_transfer_number_is_dialled(
    bot: Agent, studio: Path
) -> None:
    without_phone(studio)
    channel = TwilioVoiceInput(
        TOKEN, initial_prompt="/greet", webhook_url=WEBHOOK, transfer_number="+15550009999"
    )
    app = create_app(ServerState(agent=bot, channels=[channel]))
    phone = PhoneCall(asgi_post(app, PUBLIC), WEBHOOK, caller=CALLER)
    await phone.ring()
    answer = await phone.say("/request_human")
    assert answer.dialled == "+15550009999"
    # ...and nobody answering, the channel's own phrase is said.
    nobody = await phone.dial_result("busy")
    assert nobody.said == ["I'm sorry, nobody from the team can take your call right now."]


async def test_with_no_number_at_all_the_call_ends_after_the_handoff_message(
    bot: Agent, studio: Path, caplog: pytest.LogCaptureFixture
) -> None:
    without_phone(studio)
    channel = TwilioVoiceInput(TOKEN, initial_prompt="/greet", webhook_url=WEBHOOK)
    app = create_app(ServerState(agent=bot, channels=[channel]))
    phone = PhoneCall(asgi_post(app, PUBLIC), WEBHOOK, caller=CALLER)
    await phone.ring()
    answer = await phone.say("/request_human")
    assert answer.hung_up and answer.dialled is None
    assert answer.said[0] == "I'm putting you through to a person from the team now, please hold."
    assert "P426" in caplog.text


async def test_a_french_caller_is_answered_in_a_french_voice(bot: Agent) -> None:
    channel = TwilioVoiceInput(
        TOKEN,
        initial_prompt="/greet",
        webhook_url=WEBHOOK,
        assistant_voice="Polly.Amy-Neural",
        language="en-GB",
        languages={"fr": {"assistant_voice": "Polly.Lea-Neural", "language": "fr-FR"}},
    )
    app = create_app(ServerState(agent=bot, channels=[channel]))
    phone = PhoneCall(asgi_post(app, PUBLIC), WEBHOOK, caller=CALLER)
    greeting = await phone.ring()
    assert greeting.voices == {"Polly.Amy-Neural"}
    # The conversation turns out to be in French (the assistant's language detection).
    await bot.append_events(CALLER, [SlotSet("language", "fr")])
    answer = await phone.say("/greet")
    assert answer.voices == {"Polly.Lea-Neural"}
    assert answer.gather is not None and answer.gather["language"] == "fr-FR"
    assert any(s.startswith("Tapez 1 pour ") for s in answer.said), answer.said
    handed = await phone.say("/request_human")
    assert handed.said == ["Je vous passe une personne de l'équipe, un instant s'il vous plaît."]

"""Phone calls through Twilio Voice: signed call requests in, TwiML out, built with the real
`twilio` SDK and read back as Twilio reads it, with the small assistant answering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.channels.channel import ChannelConfigError
from parlez.channels.credentials import channels_from_credentials
from parlez.channels.twilio_voice import TwilioVoiceInput, picked_button
from parlez.events import (
    BotUttered,
    CallStep,
    ConversationPaused,
    Event,
    SessionStarted,
    UserUttered,
)
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.fakes.twilio import ACCOUNT, TOKEN, fake_twilio
from tests.fakes.twilio_voice import PhoneCall, asgi_post

pytestmark = pytest.mark.anyio

PUBLIC = "https://bot.example.com"
WEBHOOK = f"{PUBLIC}/webhooks/twilio_voice/webhook"
CALLER = "+447700900100"


def served(model: Path, **settings: Any) -> tuple[Any, Agent]:
    channel = TwilioVoiceInput(TOKEN, webhook_url=WEBHOOK, **settings)
    agent = Agent.load(model)
    return create_app(ServerState(agent=agent, channels=[channel])), agent


@pytest.fixture
def app(small_model: Path) -> tuple[Any, Agent]:
    return served(small_model)


def call(app: Any, caller: str = CALLER) -> PhoneCall:
    return PhoneCall(asgi_post(app, PUBLIC), WEBHOOK, caller=caller)


async def events(agent: Agent, sender: str = CALLER) -> list[Event]:
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker is not None
    return tracker.events


def steps(found: list[Event]) -> list[str]:
    return [e.step for e in found if isinstance(e, CallStep)]


async def test_a_call_is_greeted_and_listened_to_with_the_buttons_read_out(
    app: tuple[Any, Agent],
) -> None:
    served_app, agent = app
    phone = call(served_app)
    answer = await phone.ring()
    assert answer.status == 200
    assert answer.said == ["Hello! Where are you?", "Press 1 for Paris."]
    assert answer.voices == {"woman"}
    # Everything is said inside <Gather>: the caller may speak over it (barge-in), by voice
    # or keypad, and a single key answers the choice.
    assert answer.gather is not None
    assert answer.gather["input"] == "speech dtmf"
    assert answer.gather["actionOnEmptyResult"] == "true"
    assert answer.gather["numDigits"] == "1" and answer.gather["hints"] == "Paris"
    assert answer.gather["speechTimeout"] == "5" and answer.gather["speechModel"] == "default"
    assert phone.url == WEBHOOK
    # Rasa's initial prompt ("hello") is the caller's first words; the call is recorded.
    found = await events(agent)
    assert steps(found) == ["started"]
    first = next(e for e in found if isinstance(e, UserUttered))
    assert first.text == "hello" and first.input_channel == "twilio_voice"
    assert first.metadata["call_id"] == phone.sid and first.metadata["phone"] == CALLER


@pytest.mark.parametrize("choice", ["key", "number said", "title said"])
async def test_a_button_is_chosen_by_key_by_its_number_or_by_its_title(
    app: tuple[Any, Agent], choice: str
) -> None:
    served_app, agent = app
    phone = call(served_app)
    await phone.ring()
    if choice == "key":
        answer = await phone.press("1")
    elif choice == "number said":
        answer = await phone.say("Number one, please.")
    else:
        answer = await phone.say("Paris")
    assert answer.said == ["You are in Paris."] and answer.listening
    said = [e for e in await events(agent) if isinstance(e, UserUttered)][-1]
    assert said.intent_name == "inform"


async def test_speech_goes_to_the_assistant_with_its_confidence(app: tuple[Any, Agent]) -> None:
    served_app, agent = app
    phone = call(served_app)
    await phone.ring()
    answer = await phone.say("I live in Berlin", confidence=0.81)
    assert answer.said == ["You are in Berlin."]
    said = [e for e in await events(agent) if isinstance(e, UserUttered)][-1]
    assert said.metadata["speech_confidence"] == pytest.approx(0.81)


async def test_silence_repeats_the_question_then_the_fallback_then_says_goodbye(
    app: tuple[Any, Agent],
) -> None:
    served_app, agent = app
    phone = call(served_app)
    await phone.ring()
    first = await phone.silence()
    assert first.said == ["Hello! Where are you?", "Press 1 for Paris."] and first.listening
    second = await phone.silence()
    assert second.said == [
        "I'm sorry I didn't get that could you rephrase.",
        "Hello! Where are you?",
        "Press 1 for Paris.",
    ]
    assert second.listening
    third = await phone.silence()
    assert third.hung_up and not third.listening
    assert third.said == ["I didn't hear anything, so I'll end the call. Goodbye!"]
    assert steps(await events(agent)) == ["started", "no_input", "no_input", "no_input"]


async def test_speaking_again_starts_the_count_of_silences_over(app: tuple[Any, Agent]) -> None:
    served_app, _ = app
    phone = call(served_app)
    await phone.ring()
    await phone.silence()
    await phone.silence()
    await phone.say("bye")
    assert (await phone.silence()).said == ["Bye"]  # repeated, not goodbye yet


async def test_each_call_is_a_new_session_of_the_callers_conversation(
    app: tuple[Any, Agent],
) -> None:
    served_app, agent = app
    first = call(served_app)
    await first.ring()
    await first.say("I live in Rome")
    assert await first.hang_up(duration=31) == 204
    second = call(served_app)
    assert second.sid != first.sid
    answer = await second.ring()
    assert answer.said[0] == "Hello! Where are you?"
    found = await events(agent)
    assert sum(isinstance(e, SessionStarted) for e in found) == 2
    assert steps(found) == ["started", "ended", "started"]
    tracker = await agent.tracker_store.retrieve(CALLER)
    assert tracker is not None and tracker.get_slot("city") == "Rome"  # carried over


async def test_a_hang_up_records_the_call_once_with_where_it_stood(
    app: tuple[Any, Agent],
) -> None:
    served_app, agent = app
    phone = call(served_app)
    await phone.ring()
    assert await phone.hang_up(duration=12) == 204
    assert await phone.hang_up(duration=12) == 204  # Twilio repeating its callback
    (ended,) = [e for e in await events(agent) if isinstance(e, CallStep) and e.step == "ended"]
    assert ended.call_id == phone.sid
    assert ended.details["status"] == "completed" and ended.details["duration"] == 12
    assert ended.details["last_action"] == "utter_greet"


async def test_a_caller_who_withholds_their_number_gets_a_conversation_of_their_own(
    app: tuple[Any, Agent],
) -> None:
    served_app, agent = app
    one, two = call(served_app, "anonymous"), call(served_app, "anonymous")
    await one.ring()
    await two.ring()
    assert await agent.tracker_store.retrieve("anonymous") is None
    assert await agent.tracker_store.retrieve(one.sid) is not None
    assert await agent.tracker_store.retrieve(two.sid) is not None


@pytest.mark.parametrize("forgery", ["none", "another token", "another url"])
async def test_a_request_twilio_did_not_sign_is_refused_and_nothing_stored(
    app: tuple[Any, Agent], forgery: str
) -> None:
    served_app, agent = app
    phone = call(served_app)
    form = phone.form("ringing")
    if forgery == "none":
        status, _ = await phone.post(WEBHOOK, form, {})
    elif forgery == "another token":
        status = (await phone.send(WEBHOOK, form, token="not-the-token")).status
    else:
        from tests.fakes.twilio import twilio_signature

        other = twilio_signature(f"{PUBLIC}/webhooks/twilio_voice/other", form)
        status, _ = await phone.post(WEBHOOK, form, other)
    assert status == 403
    assert await agent.tracker_store.retrieve(CALLER) is None


async def test_a_person_in_the_console_talks_to_the_caller_on_the_live_call(
    small_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with fake_twilio() as twilio:
        channel = TwilioVoiceInput(
            TOKEN, webhook_url=WEBHOOK, account_sid=ACCOUNT, api_url=twilio.url, retry_wait=0.01
        )
        agent = Agent.load(small_model)
        state = ServerState(agent=agent, channels=[channel])
        phone = PhoneCall(asgi_post(create_app(state), PUBLIC), WEBHOOK, caller=CALLER)
        await phone.ring()
        # A person takes the conversation over in the console.
        await agent.append_events(CALLER, [ConversationPaused()])
        heard = await phone.say("hello? is anyone there?")
        assert heard.said == [] and heard.gather is not None
        assert heard.gather["timeout"] == "30"  # a person may take a while to answer
        waited = await phone.silence()
        assert waited.said == [] and waited.listening
        assert steps(await events(agent)) == ["started"]  # no silence counted
        # Their reply goes into the live call, through Twilio's REST API.
        tracker = await agent.tracker_store.retrieve(CALLER)
        assert tracker is not None
        assert tracker.latest_message is not None
        output = state.output_channel("twilio_voice", tracker.latest_message.metadata)
        reply = BotUttered("Hi, this is Sam from the studio.", metadata={"sent_by": "sam"})
        await agent.append_events(CALLER, [reply], output)
        ((sid, twiml),) = twilio.call_updates
        assert sid == phone.sid and "Hi, this is Sam from the studio." in twiml
        assert "<Gather" in twiml and WEBHOOK in twiml
        # The caller hung up: the reply stays in the conversation, and a warning says so.
        twilio.ended_calls.add(phone.sid)
        await agent.append_events(CALLER, [BotUttered("Are you there?")], output)
        assert len(twilio.call_updates) == 1 and "P427" in caplog.text


async def test_without_the_account_sid_a_reply_from_the_console_stays_in_the_conversation(
    app: tuple[Any, Agent],
) -> None:
    served_app, _ = app
    await call(served_app).ring()
    channel = served_app.ctx.state.channels[0]
    assert channel.output_channel_for({"call_id": "CA1"}) is None


async def test_a_request_without_a_call_id_is_a_400(app: tuple[Any, Agent]) -> None:
    served_app, _ = app
    phone = call(served_app)
    form = {"From": CALLER, "CallStatus": "ringing"}
    assert (await phone.send(WEBHOOK, form)).status == 400


async def test_voice_settings_reach_the_twiml(small_model: Path) -> None:
    served_app, _ = served(
        small_model,
        assistant_voice="Polly.Amy-Neural",
        language="en-GB",
        speech_model="phone_call",
        enhanced="true",
        speech_timeout="3",
        initial_prompt="hi there",
    )
    answer = await call(served_app).ring()
    assert answer.voices == {"Polly.Amy-Neural"}
    assert answer.gather is not None
    assert answer.gather["language"] == "en-GB" and answer.gather["enhanced"] == "true"
    assert answer.gather["speechModel"] == "phone_call" and answer.gather["speechTimeout"] == "3"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({}, "needs 'auth_token'"),
        ({"auth_token": "t", "assistant_voice": "robot"}, "'robot' is not a Twilio voice"),
        ({"auth_token": "t", "speech_timeout": "soon"}, "neither seconds nor 'auto'"),
        ({"auth_token": "t", "speech_model": "fast"}, "speech_model 'fast'"),
        ({"auth_token": "t", "enhanced": "maybe"}, "enhanced 'maybe'"),
        ({"auth_token": "t", "enhanced": True}, "needs speech_model: phone_call"),
        ({"auth_token": "t", "speech_timeout": "auto"}, "needs speech_model: numbers_and"),
        ({"auth_token": "t", "languages": ["fr"]}, "maps language codes to voices"),
        (
            {"auth_token": "t", "languages": {"fr": {"assistant_voice": "robot"}}},
            "'robot' is not a Twilio voice",
        ),
    ],
)
def test_settings_twilio_would_refuse_are_errors_naming_the_key(
    settings: dict[str, Any], problem: str
) -> None:
    """Rasa's own checks, plus the auth token that signatures are checked with."""
    with pytest.raises(ChannelConfigError) as raised:
        channels_from_credentials({"twilio_voice": settings})
    assert problem in raised.value.message


def test_rasas_settings_are_read_as_rasa_writes_them() -> None:
    (channel,) = channels_from_credentials(
        {
            "twilio_voice": {
                "auth_token": "t",
                "initial_prompt": "hello",
                "reprompt_fallback_phrase": "Sorry?",
                "assistant_voice": "Polly.Joanna",
                "speech_timeout": 5,
                "speech_model": "numbers_and_commands",
                "enhanced": False,
            }
        }
    )
    assert isinstance(channel, TwilioVoiceInput)
    assert (channel.speech_timeout, channel.enhanced) == ("5", "false")
    assert channel.reprompt_fallback_phrase == "Sorry?"


def test_a_choice_ending_in_a_question_mark_is_read_without_it() -> None:
    channel = TwilioVoiceInput(TOKEN)
    message = {"text": "Is it one of these?", "buttons": [{"title": "Do you sell products?"}]}
    assert channel._sentences(message) == [
        "Is it one of these?",
        "Press 1 for Do you sell products.",
    ]


@pytest.mark.parametrize(
    ("said", "chosen"),
    [
        ("2", "No"),
        ("two", "No"),
        ("Option 2.", "No"),
        ("the second", None),
        ("yes", "Yes"),
        ("Yes!", "Yes"),
        ("yes but not now", None),
        ("3", None),
        ("deux", "No"),
        ("la une", "Yes"),
        ("zwei bitte", "No"),
    ],
)
def test_what_a_caller_says_picks_a_button(said: str, chosen: str | None) -> None:
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    button = picked_button(buttons, said)
    assert (button or {}).get("title") == chosen

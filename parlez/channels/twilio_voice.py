"""Phone calls through Twilio Voice, under Rasa's name (`twilio_voice`) and credential keys.

A call to the business's Twilio number comes to `/webhooks/twilio_voice/webhook`. Each turn
is one signed form (`X-Twilio-Signature`, as for SMS: parlez checks it, Rasa's channel does
not) and one TwiML answer built with the `twilio` SDK: the assistant's messages said inside
a `<Gather input="speech dtmf">`, so that the caller can speak over them (barge-in), and
Twilio's transcript of what the caller says next (`SpeechResult`) or the keys they press
(`Digits`) comes back as the next turn.

- A call is one conversation per caller (`From`, as in Rasa; a caller who hides their number
  gets the call's own id). Each call starts a new session of it, recorded by a `call`
  event (`CallStep`) with the call's id, and opens with `initial_prompt` as the caller's
  first words (Rasa's "hello").
- Buttons are read out as numbered choices ("Press 1 for Yes, please."): a key, the number
  said ("two", "option 2") or the button's title said picks that button's payload.
- Silence: the assistant's last message is said again, then `reprompt_fallback_phrase` with
  it, then `goodbye_phrase` and the call ends (`silences`, 3 by default); each is a
  `no_input` step of the call.
- Handing over to a person: when a turn leaves the conversation paused (`pause`, as the
  assistant's handoff does), the messages are said and the call is transferred with `<Dial>`
  to the number an action asked for (a custom message `{"dial": "+44...", "unanswered":
  "utter_..."}`) or to `transfer_number`. Nobody answering (busy, no answer, failed) resumes
  the assistant, which says the action's `unanswered` response or `transfer_failed_phrase`.
- Twilio's call status callback (`/webhooks/twilio_voice/status`) records how the call ended,
  its duration and where in the conversation the caller hung up.
- What is said is the response's text written for the ear (parlez/voice/spoken.py: no
  addresses, markdown or emoji read out); a `channel: twilio_voice` variation of a response
  is chosen for calls, as in Rasa. Images are not said.

A person who takes the conversation over in the console (it is paused) talks to the caller
on the line: with the account's `account_sid`, each of their replies is said into the live
call through Twilio's REST API (the call's TwiML is updated), while the caller's words keep
coming into the conversation; silences are not counted then.

A phrase setting naming a response (`utter_...`) is said through that response, so that it
follows the conversation's language and conditions.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.twiml.voice_response import Gather, VoiceResponse

from parlez.channels.channel import (
    ChannelConfigError,
    CollectingOutputChannel,
    Conversations,
    InputChannel,
    OnNewMessage,
    OutputChannel,
    UserMessage,
)
from parlez.channels.retry import FIRST_WAIT, delivered
from parlez.channels.twilio import SignedForms, rest_client, sibling_url, transient
from parlez.channels.webhook import required, webhook_blueprint
from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    BotUttered,
    CallStep,
    ConversationResumed,
    Event,
    UserUttered,
)
from parlez.http.errors import ApiError
from parlez.registry import register_channel
from parlez.tracker import DialogueStateTracker
from parlez.voice.spoken import spoken

logger = logging.getLogger(__name__)

ACTION_SESSION_START = "action_session_start"

#: Twilio's basic voices; its Amazon Polly and Google voices (all of Rasa's list among them) are
#: named `Polly.<Name>` and `Google.<language>-<Name>`
BASIC_VOICES = frozenset({"man", "woman", "alice"})
_OTHER_VOICE = re.compile(r"^(?:Polly|Google)\.[A-Za-z0-9-]+$")
SPEECH_MODELS = ("default", "numbers_and_commands", "phone_call")

#: Twilio's statuses of a call that is over
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
DEFAULT_TRANSFER_FAILED = "I'm sorry, nobody from the team can take your call right now."
DEFAULT_GOODBYE = "I didn't hear anything, so I'll end the call. Goodbye!"
DEFAULT_CHOICE = "Press {number} for {title}."
#: how a numbered choice is read in the assistant's other languages
CHOICE_PHRASES = {
    "fr": "Tapez {number} pour {title}.",
    "de": "Drücken Sie die {number} für {title}.",
    "es": "Pulse {number} para {title}.",
}


@dataclass(frozen=True)
class Voice:
    """How the assistant speaks in one language: Twilio's voice and language code (also the
    language its speech recognition listens for), and how a numbered choice is read."""

    assistant_voice: str
    language: str | None
    choice_phrase: str


#: how long a call listens while a person in the console has the conversation
WAITING_SECONDS = 30
#: how many buttons a single key can choose between
KEYPAD_CHOICES = 9
#: Twilio accepts at most this many hints (phrases the recogniser expects)
MAX_HINTS = 100

_NUMBER_WORDS = {
    word: n
    for n, words in enumerate(
        [
            (),
            ("one", "first"),
            ("two", "second"),
            ("three", "third"),
            ("four", "fourth"),
            ("five", "fifth"),
            ("six", "sixth"),
            ("seven", "seventh"),
            ("eight", "eighth"),
            ("nine", "ninth"),
        ]
    )
    for word in words
}
#: the same in the assistant's other languages
_NUMBER_WORDS.update(
    {
        word: n
        for n, words in enumerate(
            [
                (),
                ("un", "une", "eins", "ein", "uno", "una"),
                ("deux", "zwei", "dos"),
                ("trois", "drei", "tres"),
                ("quatre", "vier", "cuatro"),
                ("cinq", "fünf", "cinco"),
                ("six", "sechs", "seis"),
                ("sept", "sieben", "siete"),
                ("huit", "acht", "ocho"),
                ("neuf", "neun", "nueve"),
            ]
        )
        for word in words
    }
)
_CHOICE = re.compile(
    r"^(?:(?:number|option|press(?:ing)?|le|la|numéro|nummer|die|el|número|opción)\s+)?"
    r"(\w+)(?:\s+(?:please|s'il vous plaît|bitte|por favor))?$"
)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def picked_button(buttons: Sequence[dict[str, Any]], said: str) -> dict[str, Any] | None:
    """The button a caller chose among `buttons` by a key, a number said ("2", "two",
    "option two") or the button's title said; None if they said something else."""
    words = _words(said)
    found = _CHOICE.match(words)
    if found:
        token = found.group(1)
        number = int(token) if token.isdigit() else _NUMBER_WORDS.get(token, 0)
        if 1 <= number <= len(buttons):
            return buttons[number - 1]
    for button in buttons:
        if words and _words(str(button.get("title") or "")) == words:
            return button
    return None


def latest_buttons(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The buttons of the assistant's latest message, if the caller has not spoken since."""
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered):
            data = event.data or {}
            return list(data.get("buttons") or data.get("quick_replies") or [])
    return []


def latest_bot_message(events: Sequence[Event]) -> dict[str, Any] | None:
    """The assistant's latest message as a channel receives it (text, buttons...)."""
    for event in reversed(events):
        if isinstance(event, BotUttered):
            return {"text": event.text, **(event.data or {})}
    return None


def call_steps(events: Sequence[Event], call_id: str) -> list[CallStep]:
    """The steps recorded of the call `call_id`, in order."""
    return [e for e in events if isinstance(e, CallStep) and e.call_id == call_id]


def silences_since_caller_spoke(events: Sequence[Event], call_id: str) -> int:
    """How many times in a row the caller said nothing in this call."""
    count = 0
    for event in reversed(events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, CallStep) and event.call_id == call_id:
            if event.step == "no_input":
                count += 1
            elif event.step != "transfer_result":
                break
    return count


def caller_id(form: dict[str, str]) -> str:
    """The conversation a call belongs to: the caller's number (Rasa's `From`), or the call's
    own id for a caller whose number is withheld (Twilio sends "anonymous", "Restricted"...),
    so that two anonymous callers never share a conversation."""
    caller = form.get("From") or ""
    if caller.startswith("+") or caller.startswith("sip:") or caller.startswith("client:"):
        return caller
    return form.get("CallSid") or caller


def where_in_conversation(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Where the conversation stood when a caller hung up: what was being asked and done."""
    said_last = next(
        (
            e.action_name
            for e in reversed(tracker.events)
            if isinstance(e, ActionExecuted) and e.action_name != ACTION_LISTEN
        ),
        None,
    )
    where: dict[str, Any] = {"last_action": said_last}
    if tracker.active_loop_name:
        where["active_loop"] = tracker.active_loop_name
        where["requested_slot"] = tracker.get_slot("requested_slot")
    return where


class TwilioVoiceOutput(CollectingOutputChannel):
    """Collects a turn's messages; the webhook's answer says them. Named `twilio_voice`, so
    that responses' `channel: twilio_voice` variations are chosen."""

    @classmethod
    def name(cls) -> str:
        return "twilio_voice"


class TwilioVoiceLiveCall(OutputChannel):
    """Says a person's reply into a call that is going on, by replacing the call's TwiML
    through Twilio's REST API (`calls(sid).update(twiml=...)`), then listens again."""

    def __init__(self, channel: TwilioVoiceInput, client: Client, call_id: str) -> None:
        self.channel = channel
        self.client = client
        self.call_id = call_id

    @classmethod
    def name(cls) -> str:
        return "twilio_voice"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        twiml = str(self.channel._gather([message], waiting=True))
        failed = await delivered(
            # The SDK is synchronous (`requests`): off the event loop.
            lambda: asyncio.to_thread(self.client.calls(self.call_id).update, twiml=twiml),
            transient,
            (TwilioException, OSError),
            first_wait=self.channel.retry_wait,
        )
        if failed is not None:
            reason = getattr(failed, "msg", None) or failed
            logger.warning(
                "P427 a reply to the call %s from %s could not be said (the call may be over): %s",
                self.call_id,
                recipient_id,
                reason,
            )

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        await self.send_response(recipient_id, {"text": text})


def _languages(value: Any) -> dict[str, dict[str, Any]]:
    """`languages:` of the settings: a voice for each language code."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ChannelConfigError(
            "twilio_voice in credentials.yml: 'languages' maps language codes to voices",
            hint="languages: {fr: {assistant_voice: Polly.Lea-Neural, language: fr-FR}}",
        )
    return {str(code): dict(voice) for code, voice in value.items()}


def _setting(value: Any, default: str) -> str:
    """A credentials value as Twilio's attribute text (YAML gives `5` and `false` typed)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@register_channel("twilio_voice")
class TwilioVoiceInput(InputChannel):
    """Rasa's `twilio_voice` channel, with the account's `auth_token` to check signatures."""

    def __init__(
        self,
        auth_token: str,
        initial_prompt: str = "hello",
        reprompt_fallback_phrase: str = "I'm sorry I didn't get that could you rephrase.",
        assistant_voice: str = "woman",
        speech_timeout: str = "5",
        speech_model: str = "default",
        enhanced: str = "false",
        *,
        language: str | None = None,
        webhook_url: str | None = None,
        transfer_number: str | None = None,
        dial_timeout: int = 20,
        transfer_failed_phrase: str = DEFAULT_TRANSFER_FAILED,
        goodbye_phrase: str = DEFAULT_GOODBYE,
        choice_phrase: str = DEFAULT_CHOICE,
        silences: int = 3,
        account_sid: str | None = None,
        api_url: str | None = None,
        retry_wait: float = FIRST_WAIT,
        languages: dict[str, dict[str, Any]] | None = None,
        language_slot: str = "language",
    ) -> None:
        self.initial_prompt = initial_prompt
        self.reprompt_fallback_phrase = reprompt_fallback_phrase
        self.assistant_voice = assistant_voice
        self.speech_timeout = speech_timeout
        self.speech_model = speech_model
        self.enhanced = enhanced
        #: the language calls are spoken and recognised in (Twilio's `language`, "en-GB")
        self.language = language
        self.webhook_url = webhook_url
        self.transfer_number = transfer_number
        self.dial_timeout = dial_timeout
        self.transfer_failed_phrase = transfer_failed_phrase
        self.goodbye_phrase = goodbye_phrase
        self.choice_phrase = choice_phrase
        self.silences = silences
        self.signatures = SignedForms(auth_token, webhook_url)
        self.retry_wait = retry_wait
        self.voice = Voice(assistant_voice, language, choice_phrase)
        #: the voice for each language a conversation's `language_slot` may hold
        self.voices = {
            code: Voice(
                _setting(given.get("assistant_voice"), assistant_voice),
                _setting(given.get("language"), "") or None,
                _setting(given.get("choice_phrase"), CHOICE_PHRASES.get(code, choice_phrase)),
            )
            for code, given in (languages or {}).items()
            if isinstance(given, dict)
        }
        self.language_slot = language_slot
        #: Twilio's REST API, to say a person's replies into a live call (with account_sid)
        self.client: Client | None = None
        if account_sid:
            self.client = rest_client(account_sid, auth_token, api_url)
        self._validate()

    @classmethod
    def name(cls) -> str:
        return "twilio_voice"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = required(
            credentials,
            ("auth_token",),
            "twilio_voice",
            "{auth_token: ${TWILIO_AUTH_TOKEN}} (parlez checks that each call's requests "
            "come from Twilio, signed with the account's auth token)",
        )
        return cls(
            str(settings["auth_token"]),
            _setting(settings.get("initial_prompt"), "hello"),
            _setting(
                settings.get("reprompt_fallback_phrase"),
                "I'm sorry I didn't get that could you rephrase.",
            ),
            _setting(settings.get("assistant_voice"), "woman"),
            _setting(settings.get("speech_timeout"), "5"),
            _setting(settings.get("speech_model"), "default"),
            _setting(settings.get("enhanced"), "false"),
            language=settings.get("language"),
            webhook_url=settings.get("webhook_url"),
            transfer_number=_setting(settings.get("transfer_number"), "") or None,
            dial_timeout=int(settings.get("dial_timeout") or 20),
            transfer_failed_phrase=_setting(
                settings.get("transfer_failed_phrase"), DEFAULT_TRANSFER_FAILED
            ),
            goodbye_phrase=_setting(settings.get("goodbye_phrase"), DEFAULT_GOODBYE),
            choice_phrase=_setting(settings.get("choice_phrase"), DEFAULT_CHOICE),
            silences=int(settings.get("silences") or 3),
            account_sid=_setting(settings.get("account_sid"), "") or None,
            api_url=settings.get("api_url"),
            languages=_languages(settings.get("languages")),
            language_slot=_setting(settings.get("language_slot"), "language"),
        )

    def _validate(self) -> None:
        """Rasa's checks of the settings, with the same rules, as one ChannelConfigError."""

        def refuse(problem: str, hint: str) -> None:
            raise ChannelConfigError(
                f"twilio_voice in credentials.yml: {problem}", hint=f"twilio_voice: {hint}"
            )

        for voice in [self.voice, *self.voices.values()]:
            if voice.assistant_voice not in BASIC_VOICES and not _OTHER_VOICE.match(
                voice.assistant_voice
            ):
                refuse(
                    f"'{voice.assistant_voice}' is not a Twilio voice",
                    "assistant_voice: woman, man, alice, or Polly.<Name> / Google.<Voice>",
                )
        timeout = self.speech_timeout.lower()
        if not timeout.isdigit() and timeout != "auto":
            refuse(
                f"speech_timeout '{self.speech_timeout}' is neither seconds nor 'auto'",
                "speech_timeout: 5",
            )
        if self.speech_model not in SPEECH_MODELS:
            refuse(
                f"speech_model '{self.speech_model}' is not one of {', '.join(SPEECH_MODELS)}",
                "speech_model: default",
            )
        if self.enhanced.lower() not in ("true", "false"):
            refuse(f"enhanced '{self.enhanced}' is neither true nor false", "enhanced: false")
        if self.enhanced.lower() == "true" and self.speech_model != "phone_call":
            refuse(
                "enhanced: true needs speech_model: phone_call (Twilio's premium model)",
                "speech_model: phone_call",
            )
        if timeout == "auto" and self.speech_model != "numbers_and_commands":
            refuse(
                "speech_timeout: auto needs speech_model: numbers_and_commands",
                "speech_timeout: 5, or speech_model: numbers_and_commands",
            )
        if self.silences < 1:
            refuse("silences must be 1 or more", "silences: 3")

    def output_channel_for(self, metadata: dict[str, Any]) -> OutputChannel | None:
        """A person's reply from the console goes into the caller's call, if it is the
        latest message's and the REST API can be used (`account_sid`)."""
        call = metadata.get("call_id")
        if self.client is None or not isinstance(call, str) or not call:
            return None
        return TwilioVoiceLiveCall(self, self.client, call)

    def actions_used(self) -> list[str]:
        """The responses its phrase settings name (`transfer_failed_phrase: utter_...`)."""
        phrases = (self.reprompt_fallback_phrase, self.transfer_failed_phrase, self.goodbye_phrase)
        return [phrase for phrase in phrases if phrase.startswith("utter_")]

    def _route(self, name: str) -> str:
        """Where Twilio posts next: the channel's `name` route, next to `webhook_url` when it
        is given, else relative to the URL Twilio just called (so a path prefix of a reverse
        proxy is kept)."""
        return sibling_url(self.webhook_url, name) or name

    # ---- TwiML -------------------------------------------------------------------------------

    def _voice_of(self, tracker: DialogueStateTracker | None) -> Voice:
        """The voice for the conversation's language (its `language_slot`), else the
        channel's own."""
        code = tracker.get_slot(self.language_slot) if tracker is not None else None
        return self.voices.get(str(code), self.voice) if code else self.voice

    @staticmethod
    def _say(verb: VoiceResponse | Gather, text: str, voice: Voice) -> None:
        attributes = {"voice": voice.assistant_voice}
        if voice.language:
            attributes["language"] = voice.language
        verb.say(text, **attributes)

    def _sentences(self, message: dict[str, Any], voice: Voice | None = None) -> list[str]:
        """What is said of one message: its text, and its buttons as numbered choices."""
        custom = message.get("custom") if isinstance(message.get("custom"), dict) else {}
        text = str(message.get("text") or (custom or {}).get("text") or "")
        said = spoken(text)
        for element in message.get("elements") or []:
            said += spoken(str(element.get("title") or ""))
        buttons = message.get("buttons") or message.get("quick_replies") or []
        for number, button in enumerate(buttons, start=1):
            # "Which products do you use?" read as a choice: without its own full stop.
            title = " ".join(spoken(str(button.get("title") or ""))).rstrip(".?!")
            said.append((voice or self.voice).choice_phrase.format(number=number, title=title))
        return said

    def _gather(
        self,
        messages: Sequence[dict[str, Any]],
        waiting: bool = False,
        voice: Voice | None = None,
    ) -> VoiceResponse:
        """Say `messages` and listen: the caller may speak (or press a key) over them.
        `waiting`: a person has the conversation, and may take a while to answer."""
        voice = voice or self.voice
        answer = VoiceResponse()
        attributes: dict[str, Any] = {
            "input": "speech dtmf",
            "action": self._route("webhook"),
            "action_on_empty_result": True,
            "speech_timeout": self.speech_timeout,
            "speech_model": self.speech_model,
            "enhanced": self.enhanced,
        }
        if voice.language:
            attributes["language"] = voice.language
        if waiting:
            attributes["timeout"] = WAITING_SECONDS
        buttons = (
            (messages[-1].get("buttons") or messages[-1].get("quick_replies") or [])
            if (messages)
            else []
        )
        if buttons:
            hints = [str(b.get("title") or "") for b in buttons][:MAX_HINTS]
            attributes["hints"] = ", ".join(
                " ".join(h.replace(",", " ").split()) for h in hints if h
            )
            if len(buttons) <= KEYPAD_CHOICES:
                attributes["num_digits"] = 1  # one key answers at once
        gather = Gather(**attributes)
        self._say_all(gather, messages, voice)
        answer.append(gather)
        return answer

    def _say_all(
        self,
        verb: VoiceResponse | Gather,
        messages: Sequence[dict[str, Any]],
        voice: Voice | None = None,
    ) -> None:
        voice = voice or self.voice
        sentences = [s for message in messages for s in self._sentences(message, voice)]
        for index, sentence in enumerate(sentences):
            if index:
                verb.pause(length=1)
            self._say(verb, sentence, voice)

    def _ending(
        self, messages: Sequence[dict[str, Any]], voice: Voice | None = None
    ) -> VoiceResponse:
        """Say `messages`, then hang up."""
        answer = VoiceResponse()
        self._say_all(answer, messages, voice)
        answer.hangup()
        return answer

    def _transfer(
        self, messages: Sequence[dict[str, Any]], number: str, voice: Voice | None = None
    ) -> VoiceResponse:
        """Say `messages`, then put the caller through to `number`; Twilio tells `/dial` how
        it went."""
        answer = VoiceResponse()
        self._say_all(answer, messages, voice)
        answer.dial(number, action=self._route("dial"), timeout=self.dial_timeout)
        return answer

    # ---- the routes --------------------------------------------------------------------------

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        bp = webhook_blueprint(self)

        @bp.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            form = self._signed(request, "a Twilio call request", "CallSid", "From")
            return twiml(await self._turn(form, on_new_message, conversations))

        @bp.post("/dial")
        async def dialled(request: Request) -> HTTPResponse:
            form = self._signed(request, "a Twilio dial result", "CallSid", "DialCallStatus")
            return twiml(await self._dial_result(form, conversations))

        @bp.post("/status")
        async def status(request: Request) -> HTTPResponse:
            form = self._signed(request, "a Twilio call status", "CallSid", "CallStatus")
            if conversations is not None and form["CallStatus"] in ENDED:
                await self._ended(form, conversations)
            return response.empty()

        return bp

    def _signed(self, request: Request, what: str, *keys: str) -> dict[str, str]:
        """The request's form, signed by Twilio (else a 403) and holding `keys` (else a
        400)."""
        form = self.signatures.form(request)
        if not all(form.get(key) for key in keys):
            named = " and ".join(f"'{key}'" for key in keys)
            raise ApiError(400, "BadRequest", f"{what} has {named}")
        return form

    async def _turn(
        self,
        form: dict[str, str],
        on_new_message: OnNewMessage,
        conversations: Conversations | None,
    ) -> VoiceResponse:
        sender, call = caller_id(form), form["CallSid"]
        speech = (form.get("SpeechResult") or "").strip()
        keys = (form.get("Digits") or "").strip()
        tracker = await conversations.retrieve(sender) if conversations else None
        events = tracker.events if tracker is not None else []
        # A person has the conversation (the console): the caller's words are theirs.
        with_person = tracker is not None and tracker.is_paused() and bool(call_steps(events, call))
        metadata: dict[str, Any] = {"call_id": call, "to": form.get("To")}
        if sender.startswith("+"):
            metadata["phone"] = sender
        if speech or keys:
            text = speech or keys
            if speech and form.get("Confidence"):
                metadata["speech_confidence"] = float(form["Confidence"])
            if keys:
                metadata["keys"] = keys
            button = picked_button(latest_buttons(events), text)
            if button is not None:
                metadata["display"] = text
                text = str(button.get("payload") or button.get("title") or text)
        elif with_person:
            # silence while a person answers
            return self._gather([], waiting=True, voice=self._voice_of(tracker))
        elif conversations is not None and call_steps(events, call):
            return await self._silence(sender, call, tracker, conversations)
        elif conversations is None and form.get("CallStatus") != "ringing":
            # Without the conversations, Rasa's way: the fallback phrase.
            return self._gather([{"text": self.reprompt_fallback_phrase}])
        else:
            await self._start(sender, call, form, tracker, conversations)
            text = self.initial_prompt
        output = TwilioVoiceOutput()
        message = UserMessage(text, output, sender, metadata, input_channel=self.name())
        await on_new_message(message)
        after = await conversations.retrieve(sender) if conversations else None
        if with_person and after is not None and after.is_paused():
            return self._gather(output.messages, waiting=True, voice=self._voice_of(after))
        return await self._answer(sender, call, output.messages, after, conversations)

    async def _start(
        self,
        sender: str,
        call: str,
        form: dict[str, str],
        tracker: DialogueStateTracker | None,
        conversations: Conversations | None,
    ) -> None:
        """A new call: a new session of the caller's conversation, which records it."""
        if conversations is None:
            return
        started = CallStep(
            call,
            "started",
            {"from": form.get("From"), "to": form.get("To"), "direction": form.get("Direction")},
        )
        if tracker is not None:  # a first call starts the conversation (and its session)
            await conversations.execute_action(sender, ACTION_SESSION_START, TwilioVoiceOutput())
        # After the session's start: the reports count the call in the session it opens.
        await conversations.append_events(sender, [started])

    async def _answer(
        self,
        sender: str,
        call: str,
        messages: list[dict[str, Any]],
        after: DialogueStateTracker | None,
        conversations: Conversations | None,
    ) -> VoiceResponse:
        """The turn's TwiML: its messages said while listening, or a transfer, or the end."""
        custom = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
        dial: dict[str, Any] = next((c for c in custom if c.get("dial")), {})
        voice = self._voice_of(after)
        if after is not None and after.is_paused():
            number = str(dial.get("dial") or self.transfer_number or "")
            if number and conversations is not None:
                transfer: dict[str, Any] = {"to": number}
                if dial.get("unanswered"):
                    transfer["unanswered"] = str(dial["unanswered"])
                await conversations.append_events(sender, [CallStep(call, "transfer", transfer)])
                return self._transfer(messages, number, voice)
            logger.warning(
                "P426 the call from %s was handed to a person, and twilio_voice has no "
                "transfer_number: the call ends after the assistant's messages",
                sender,
            )
            goodbye = await self._phrase(sender, self.goodbye_phrase, conversations)
            return self._ending([*messages, *goodbye], voice)
        if any(c.get("hangup") for c in custom):
            return self._ending(messages, voice)
        return self._gather(messages, voice=voice)

    async def _phrase(
        self, sender: str, phrase: str, conversations: Conversations | None = None
    ) -> list[dict[str, Any]]:
        """A phrase setting as messages: a response it names (`utter_...`) run in the
        conversation, in its language; else the phrase itself."""
        if phrase.startswith("utter_") and conversations is not None:
            output = TwilioVoiceOutput()
            await conversations.execute_action(sender, phrase, output)
            # The caller is listened to next, as after any of the assistant's turns: the
            # dialogue policies see the next message after `action_listen`, as they learnt.
            await conversations.append_events(sender, [ActionExecuted(ACTION_LISTEN)])
            return output.messages
        return [{"text": phrase}]

    async def _silence(
        self,
        sender: str,
        call: str,
        tracker: DialogueStateTracker | None,
        conversations: Conversations,
    ) -> VoiceResponse:
        """The caller said nothing: the last message again, then the fallback phrase with
        it, and after `silences` of them in a row, goodbye."""
        events = tracker.events if tracker is not None else []
        voice = self._voice_of(tracker)
        count = silences_since_caller_spoke(events, call) + 1
        step = CallStep(call, "no_input", {"count": count})
        await conversations.append_events(sender, [step])
        if count >= self.silences:
            goodbye = await self._phrase(sender, self.goodbye_phrase, conversations)
            return self._ending(goodbye, voice)
        last = latest_bot_message(events)
        again = [last] if last else []
        if count > 1 or not again:
            fallback = await self._phrase(sender, self.reprompt_fallback_phrase, conversations)
            again = [*fallback, *again]
        return self._gather(again, voice=voice)

    async def _dial_result(
        self, form: dict[str, str], conversations: Conversations | None
    ) -> VoiceResponse:
        """The transfer is over: after a person took the call, the call ends; nobody
        answering gives the caller back to the assistant."""
        sender, call = caller_id(form), form["CallSid"]
        status = form["DialCallStatus"]
        result = CallStep(
            call,
            "transfer_result",
            {"status": status, "duration": _seconds(form.get("DialCallDuration"))},
        )
        if status == "completed":
            if conversations is not None:
                await conversations.append_events(sender, [result])
            answer = VoiceResponse()
            answer.hangup()
            return answer
        logger.info("the transfer of the call from %s did not go through: %s", sender, status)
        if conversations is None:
            return self._gather([{"text": self.transfer_failed_phrase}])
        tracker = await conversations.retrieve(sender)
        transfers = [
            s for s in call_steps(tracker.events if tracker else [], call) if s.step == "transfer"
        ]
        # What the action that asked for the transfer wants said, else the channel's phrase.
        phrase = (transfers[-1].details.get("unanswered") if transfers else None) or (
            self.transfer_failed_phrase
        )
        await conversations.append_events(sender, [result, ConversationResumed()])
        said = await self._phrase(sender, str(phrase), conversations)
        return self._gather(said, voice=self._voice_of(tracker))

    async def _ended(self, form: dict[str, str], conversations: Conversations) -> None:
        """Record how the call ended (once: Twilio may repeat a callback)."""
        sender, call = caller_id(form), form["CallSid"]
        tracker = await conversations.retrieve(sender)
        if tracker is None:
            return
        steps = call_steps(tracker.events, call)
        if not steps or any(s.step == "ended" for s in steps):
            return  # a call this assistant never answered, or already recorded
        details: dict[str, Any] = {
            "status": form["CallStatus"],
            "duration": _seconds(form.get("CallDuration")),
            **where_in_conversation(tracker),
        }
        if tracker.is_paused():
            details["with_person"] = True
        await conversations.append_events(sender, [CallStep(call, "ended", details)])


def _seconds(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def twiml(answer: VoiceResponse) -> HTTPResponse:
    return response.text(str(answer), content_type="text/xml")

"""A phone call as Twilio Voice drives a webhook: what a caller says, keys or leaves unsaid
goes to the assistant as Twilio's signed forms, and each TwiML answer is read as Twilio
reads it (what is said, whether it listens, dials or hangs up, where it posts next).

The forms carry Twilio's parameters (`CallSid`, `CallStatus`, `From`, `To`, `SpeechResult`,
`Confidence`, `Digits`, `DialCallStatus`, `CallDuration`), signed with the account's auth
token over the absolute URL posted to, exactly as Twilio signs them; relative `action`
URLs are resolved against the URL of the answer they came in, as Twilio resolves them.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from tests.fakes.twilio import ACCOUNT, TOKEN, twilio_signature

#: posts a signed form to an absolute URL; gives back the status and the body
Post = Callable[[str, dict[str, str], dict[str, str]], Awaitable[tuple[int, str]]]

_calls = itertools.count(1)


@dataclass
class Answer:
    """One TwiML answer, as Twilio acts on it."""

    status: int
    twiml: str
    said: list[str] = field(default_factory=list)
    #: `<Gather>`'s attributes when it listens for the caller
    gather: dict[str, str] | None = None
    #: the number `<Dial>` puts the caller through to, and where Twilio reports how it went
    dialled: str | None = None
    dial_action: str | None = None
    hung_up: bool = False
    voices: set[str] = field(default_factory=set)

    @property
    def listening(self) -> bool:
        return self.gather is not None

    @property
    def text(self) -> str:
        return " ".join(self.said)


def read_twiml(status: int, body: str) -> Answer:
    answer = Answer(status, body)
    if status != 200:
        return answer
    root = ET.fromstring(body)
    assert root.tag == "Response", body
    for verb in root.iter():
        if verb.tag == "Say":
            answer.said.append(verb.text or "")
            answer.voices.add(verb.get("voice") or "")
        elif verb.tag == "Gather":
            answer.gather = dict(verb.attrib)
        elif verb.tag == "Dial":
            answer.dialled = (verb.text or "").strip()
            answer.dial_action = verb.get("action")
        elif verb.tag == "Hangup":
            answer.hung_up = True
    return answer


class PhoneCall:
    """One call from `caller` to `number`, answered at `webhook_url`."""

    def __init__(
        self,
        post: Post,
        webhook_url: str,
        caller: str = "+447700900100",
        number: str = "+15550002222",
        token: str = TOKEN,
    ) -> None:
        self.post = post
        self.caller = caller
        self.number = number
        self.token = token
        self.sid = f"CA{next(_calls):032d}"
        #: where Twilio posts next: the number's webhook, then each answer's `action`
        self.url = webhook_url
        self.webhook_url = webhook_url
        self.answers: list[Answer] = []

    def form(self, status: str, **extra: str) -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": status,
            "Direction": "inbound",
            "From": self.caller,
            "Caller": self.caller,
            "To": self.number,
            "Called": self.number,
            **extra,
        }

    async def send(self, url: str, form: dict[str, str], token: str | None = None) -> Answer:
        headers = twilio_signature(url, form, token or self.token)
        status, body = await self.post(url, form, headers)
        answer = read_twiml(status, body)
        if status == 200:
            self.answers.append(answer)
            if answer.gather is not None and answer.gather.get("action"):
                self.url = urljoin(url, answer.gather["action"])
            if answer.dial_action:
                self.url = urljoin(url, answer.dial_action)
        return answer

    async def ring(self) -> Answer:
        """The call comes in: Twilio asks the number's webhook what to do."""
        return await self.send(self.webhook_url, self.form("ringing"))

    async def say(self, words: str, confidence: float = 0.92) -> Answer:
        form = self.form("in-progress", SpeechResult=words, Confidence=f"{confidence:.8f}")
        return await self.send(self.url, form)

    async def press(self, keys: str) -> Answer:
        return await self.send(self.url, self.form("in-progress", Digits=keys))

    async def silence(self) -> Answer:
        """The caller says nothing until `<Gather>` times out (`actionOnEmptyResult`)."""
        return await self.send(self.url, self.form("in-progress"))

    async def dial_result(self, status: str, duration: int = 0) -> Answer:
        """How the `<Dial>` went: `completed`, `busy`, `no-answer`, `failed`."""
        extra = {"DialCallStatus": status, "DialCallSid": "CA" + "d" * 32}
        if status == "completed":
            extra["DialCallDuration"] = str(duration)
        return await self.send(self.url, self.form("in-progress", **extra))

    async def hang_up(self, duration: int = 42, status: str = "completed") -> int:
        """Twilio's status callback once the call is over; gives back the HTTP status."""
        url = urljoin(self.webhook_url, "status")
        form = self.form(status, CallDuration=str(duration), Duration="1")
        headers = twilio_signature(url, form, self.token)
        code, _ = await self.post(url, form, headers)
        return code


def asgi_post(app: Any, public: str) -> Post:
    """Posts to `app` in-process; `public` is the base URL Twilio is given (and signs)."""

    async def post(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        assert url.startswith(public), url
        _, reply = await app.asgi_client.post(url[len(public) :], data=form, headers=headers)
        return reply.status, reply.text

    return post

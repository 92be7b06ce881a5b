"""Each messaging platform as the conformance suite drives it: its channel pointed at the
platform's local stand-in, and a customer's signed request in its own wire format.

A platform here knows how a customer says something (and presses a button), what a forged
and a malformed request look like, what the platform received, and how to make it fail.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

from parlez.channels.channel import InputChannel
from parlez.channels.facebook import InstagramInput, MessengerInput
from parlez.channels.slack import SlackInput
from parlez.channels.telegram import TelegramInput, derived_secret
from parlez.channels.twilio import TwilioInput
from tests.fakes import meta, slack, telegram, twilio

Reply = Any  # sanic-testing's response
Button = dict[str, str]


class Platform(Protocol):
    name: str

    def channel(self) -> InputChannel: ...

    def conversation(self, customer: int) -> str:
        """The conversation id the platform's customer number `customer` gets."""

    async def say(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        """The customer's message, signed as the platform signs it."""

    async def press(self, app: Any, customer: int, button: Button, message_id: str) -> Reply:
        """The customer presses `button` (its `title` and `payload`)."""

    async def forged(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        """The same request, with a signature the platform did not make."""

    async def malformed(self, app: Any) -> Reply:
        """A signed request whose body is not the platform's."""

    def texts(self, customer: int) -> list[str]:
        """The texts the platform received for the customer, buttons' texts included."""

    def buttons(self, customer: int) -> list[str]:
        """The titles of the buttons the customer was shown."""

    def images(self, customer: int) -> list[str]:
        """The image URLs the platform received for the customer."""

    def fail(self, statuses: list[int]) -> None:
        """The platform's next answers are these HTTP statuses."""


class Messenger:
    name = "facebook"
    webhook = "/webhooks/facebook/webhook"
    kind = "page"

    def __init__(self, graph: meta.FakeGraph) -> None:
        self.graph = graph

    def channel(self) -> InputChannel:
        return MessengerInput("verify", "app-secret", self.graph.token, self.graph.url, 0.01)

    def conversation(self, customer: int) -> str:
        return f"psid-{customer}"

    async def _post(self, app: Any, body: dict[str, Any], secret: str = "app-secret") -> Reply:
        body["object"] = self.kind
        raw, headers = meta.signed(secret, body)
        _, reply = await app.asgi_client.post(self.webhook, content=raw, headers=headers)
        return reply

    async def say(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        return await self._post(
            app, meta.message_event(self.conversation(customer), text, message_id)
        )

    async def press(self, app: Any, customer: int, button: Button, message_id: str) -> Reply:
        body = meta.postback_event(self.conversation(customer), button["payload"], message_id)
        return await self._post(app, body)

    async def forged(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        body = meta.message_event(self.conversation(customer), text, message_id)
        return await self._post(app, body, secret="not-the-secret")

    async def malformed(self, app: Any) -> Reply:
        raw = b'{"object": "page"}'
        _, reply = await app.asgi_client.post(
            self.webhook, content=raw, headers=meta.signature("app-secret", raw)
        )
        return reply

    def _messages(self, customer: int) -> list[dict[str, Any]]:
        return self.graph.messages(self.conversation(customer))

    def texts(self, customer: int) -> list[str]:
        found = []
        for message in self._messages(customer):
            payload = (message.get("attachment") or {}).get("payload") or {}
            text = message.get("text") or payload.get("text")
            if text:
                found.append(str(text))
        return found

    def buttons(self, customer: int) -> list[str]:
        found = []
        for message in self._messages(customer):
            payload = (message.get("attachment") or {}).get("payload") or {}
            found += [b["title"] for b in payload.get("buttons") or []]
            found += [q["title"] for q in message.get("quick_replies") or []]
        return found

    def images(self, customer: int) -> list[str]:
        return [
            m["attachment"]["payload"]["url"]
            for m in self._messages(customer)
            if (m.get("attachment") or {}).get("type") == "image"
        ]

    def fail(self, statuses: list[int]) -> None:
        self.graph.fail = list(statuses)


class Instagram(Messenger):
    name = "instagram"
    webhook = "/webhooks/instagram/webhook"
    kind = "instagram"

    def channel(self) -> InputChannel:
        return InstagramInput("verify", "app-secret", self.graph.token, self.graph.url, 0.01)

    def conversation(self, customer: int) -> str:
        return f"igsid-{customer}"


class Twilio:
    name = "twilio"
    webhook = "/webhooks/twilio/webhook"
    public = "https://bot.example.com/webhooks/twilio/webhook"
    number = "+15550001111"

    def __init__(self, fake: twilio.FakeTwilio) -> None:
        self.fake = fake

    def channel(self) -> InputChannel:
        return TwilioInput(
            twilio.ACCOUNT,
            twilio.TOKEN,
            self.number,
            webhook_url=self.public,
            api_url=self.fake.url,
            retry_wait=0.01,
        )

    def conversation(self, customer: int) -> str:
        return f"+4477009{customer:05d}"

    async def _post(self, app: Any, form: dict[str, str], token: str = twilio.TOKEN) -> Reply:
        headers = twilio.twilio_signature(self.public, form, token)
        _, reply = await app.asgi_client.post(self.webhook, data=form, headers=headers)
        return reply

    async def say(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        return await self._post(app, twilio.sms(self.conversation(customer), text, message_id))

    async def press(self, app: Any, customer: int, button: Button, message_id: str) -> Reply:
        # SMS has no buttons: the customer answers the numbered choice with its digit.
        number = self.buttons(customer).index(button["title"]) + 1
        return await self.say(app, customer, str(number), message_id)

    async def forged(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        form = twilio.sms(self.conversation(customer), text, message_id)
        return await self._post(app, form, token="not-the-token")

    async def malformed(self, app: Any) -> Reply:
        return await self._post(app, {"Body": "no sender"})

    def _bodies(self, customer: int) -> list[str]:
        return [b for b in self.fake.bodies(self.conversation(customer)) if b]

    def texts(self, customer: int) -> list[str]:
        """The messages' texts, without the numbered choices that stand for buttons."""
        return [_CHOICES.sub("", body).rstrip() for body in self._bodies(customer)]

    def buttons(self, customer: int) -> list[str]:
        """The numbered choices ("1. Paris") of the latest message that has them."""
        for body in reversed(self._bodies(customer)):
            choices = re.findall(r"^\d+\. (.+)$", body, re.M)
            if choices:
                return choices
        return []

    def images(self, customer: int) -> list[str]:
        return [
            url
            for m in self.fake.sent
            if m["To"] == self.conversation(customer)
            for url in m.get("MediaUrl") or []
        ]

    def fail(self, statuses: list[int]) -> None:
        self.fake.fail = list(statuses)


_CHOICES = re.compile(r"^\d+\. .+$", re.M)


class Telegram:
    name = "telegram"
    webhook = "/webhooks/telegram/webhook"

    def __init__(self, fake: telegram.FakeTelegram) -> None:
        self.fake = fake
        self.secret = {"X-Telegram-Bot-Api-Secret-Token": derived_secret(telegram.TOKEN)}

    def channel(self) -> InputChannel:
        return TelegramInput(
            telegram.TOKEN,
            "bot",
            "https://bot.example.com/w",
            api_url=self.fake.url,
            retry_wait=0.01,
        )

    def conversation(self, customer: int) -> str:
        return str(7000 + customer)

    async def _post(self, app: Any, update: dict[str, Any], headers: dict[str, str]) -> Reply:
        _, reply = await app.asgi_client.post(
            self.webhook, content=json.dumps(update), headers=headers
        )
        return reply

    @staticmethod
    def _update_id(message_id: str) -> int:
        return zlib.crc32(message_id.encode())

    async def say(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        update = telegram.text_update(self._update_id(message_id), 7000 + customer, text)
        return await self._post(app, update, self.secret)

    async def press(self, app: Any, customer: int, button: Button, message_id: str) -> Reply:
        shown = [
            b
            for body in self.fake.sent("sendMessage", self.conversation(customer))
            for row in (body.get("reply_markup") or {}).get("inline_keyboard") or []
            for b in row
        ]
        data = next(b["callback_data"] for b in reversed(shown) if b["text"] == button["title"])
        update = telegram.button_update(self._update_id(message_id), 7000 + customer, data)
        return await self._post(app, update, self.secret)

    async def forged(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        update = telegram.text_update(self._update_id(message_id), 7000 + customer, text)
        return await self._post(app, update, {"X-Telegram-Bot-Api-Secret-Token": "guess"})

    async def malformed(self, app: Any) -> Reply:
        return await self._post(app, {"message": {"text": "no update id"}}, self.secret)

    def texts(self, customer: int) -> list[str]:
        return self.fake.texts(self.conversation(customer))

    def buttons(self, customer: int) -> list[str]:
        return [
            button["text"]
            for body in self.fake.sent("sendMessage", self.conversation(customer))
            for row in (body.get("reply_markup") or {}).get("inline_keyboard") or []
            for button in row
        ]

    def images(self, customer: int) -> list[str]:
        return [body["photo"] for body in self.fake.sent("sendPhoto", self.conversation(customer))]

    def fail(self, statuses: list[int]) -> None:
        self.fake.fail = list(statuses)


class Slack:
    name = "slack"
    webhook = "/webhooks/slack/webhook"

    def __init__(self, fake: slack.FakeSlack) -> None:
        self.fake = fake

    def channel(self) -> InputChannel:
        return SlackInput(slack.TOKEN, slack.SIGNING_SECRET, api_url=self.fake.url, retry_wait=0.01)

    def conversation(self, customer: int) -> str:
        return f"U{customer}"

    def _place(self, customer: int) -> str:
        return f"D{customer}"  # the direct-message channel with the customer

    async def _post(
        self, app: Any, raw: bytes, secret: str = slack.SIGNING_SECRET, **headers: str
    ) -> Reply:
        signed = {**slack.slack_headers(raw, secret), **headers}
        _, reply = await app.asgi_client.post(self.webhook, content=raw, headers=signed)
        return reply

    async def say(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        raw = slack.message_event(
            self.conversation(customer), text, self._place(customer), message_id
        )
        return await self._post(app, raw)

    async def press(self, app: Any, customer: int, button: Button, message_id: str) -> Reply:
        who, where = self.conversation(customer), self._place(customer)
        raw = slack.button_press(who, button["payload"], where, message_id)
        return await self._post(app, raw, **{"Content-Type": "application/x-www-form-urlencoded"})

    async def forged(self, app: Any, customer: int, text: str, message_id: str) -> Reply:
        raw = slack.message_event(
            self.conversation(customer), text, self._place(customer), message_id
        )
        return await self._post(app, raw, secret="not-the-secret")

    async def malformed(self, app: Any) -> Reply:
        return await self._post(app, b'{"no": "type"}')

    def texts(self, customer: int) -> list[str]:
        return self.fake.texts(self._place(customer))

    def buttons(self, customer: int) -> list[str]:
        return [
            element["text"]["text"]
            for post in self.fake.posted
            if post["channel"] == self._place(customer)
            for block in post.get("blocks") or []
            for element in block.get("elements") or []
            if element.get("type") == "button"
        ]

    def images(self, customer: int) -> list[str]:
        return [
            block["image_url"]
            for post in self.fake.posted
            if post["channel"] == self._place(customer)
            for block in post.get("blocks") or []
            if block.get("type") == "image"
        ]

    def fail(self, statuses: list[int]) -> None:
        self.fake.fail = list(statuses)


NAMES = ("facebook", "instagram", "twilio", "telegram", "slack")


@contextmanager
def platform(name: str) -> Iterator[Platform]:
    """The platform `name`, its stand-in serving on 127.0.0.1 for as long as it is used."""
    with ExitStack() as stack:
        if name in ("facebook", "instagram"):
            graph = stack.enter_context(meta.fake_graph())
            yield Messenger(graph) if name == "facebook" else Instagram(graph)
        elif name == "twilio":
            yield Twilio(stack.enter_context(twilio.fake_twilio()))
        elif name == "telegram":
            yield Telegram(stack.enter_context(telegram.fake_telegram()))
        else:
            yield Slack(stack.enter_context(slack.fake_slack()))

"""Telegram, under Rasa's name (`telegram`) and credential keys.

Telegram POSTs each update to `/webhooks/telegram/webhook`. The webhook is registered with
Telegram's Bot API (`setWebhook`, when the server starts and at `/webhooks/telegram/set_webhook`
as in Rasa) together with a secret token, which Telegram then sends back on every update
(`X-Telegram-Bot-Api-Secret-Token`): an update without it is refused (403) before anything is
stored. The token is `secret_token` when given, else one derived from the bot's access token,
so that a Rasa project's three keys are enough.

Text messages and button presses (callback queries, whose spinner is stopped with
`answerCallbackQuery`) become user messages whose id is Telegram's `update_id`, so an update
Telegram delivers again is answered once. Buttons are inline keyboards; a payload longer than
Telegram's 64 bytes of `callback_data` travels as the button's number and is read back from
the conversation. The answers go out through the Bot API (`sendMessage`, `sendPhoto`), retried
on 429 and 5xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

import httpx
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import (
    Conversations,
    InputChannel,
    OnNewMessage,
    OutputChannel,
    UserMessage,
)
from parlez.channels.http import platform_client
from parlez.channels.retry import (
    ATTEMPTS,
    FIRST_WAIT,
    PlatformError,
    delivered,
    transient,
)
from parlez.channels.webhook import required, webhook_blueprint
from parlez.events import BotUttered, UserUttered
from parlez.http.errors import ApiError
from parlez.registry import register_channel

logger = logging.getLogger(__name__)

API_URL = "https://api.telegram.org"
#: Telegram's limits: a message's text, and a button's callback data in bytes
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
#: a button whose payload did not fit in its callback data: `#<number>` among the message's
_NUMBERED = re.compile(r"^#(\d{1,3})$")


def derived_secret(access_token: str) -> str:
    """The webhook's secret token when none is configured: only the bot's owner can know it."""
    return hashlib.sha256(f"parlez telegram webhook {access_token}".encode()).hexdigest()


def callback_data(payload: str, number: int) -> str:
    """A button's `callback_data`: its payload if it fits in Telegram's 64 bytes, else its
    number among the message's buttons (read back by `pressed_payload`)."""
    return payload if len(payload.encode()) <= MAX_CALLBACK_DATA else f"#{number}"


class TelegramOutput(OutputChannel):
    """Sends the bot's messages through the Bot API, as the bot."""

    def __init__(
        self,
        access_token: str,
        api_url: str = API_URL,
        attempts: int = ATTEMPTS,
        retry_wait: float = FIRST_WAIT,
    ) -> None:
        self.access_token = access_token
        self.api_url = api_url.rstrip("/")
        self.attempts = attempts
        self.retry_wait = retry_wait

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """One Bot API call; its `result`, or a PlatformError."""
        # The token is part of the path, as the Bot API wants it: never logged (see `send`).
        url = f"{self.api_url}/bot{self.access_token}/{method}"
        reply = await platform_client().post(url, json=body)
        if reply.status_code >= 400:
            raise PlatformError(reply.status_code, reply.text)
        result: dict[str, Any] = reply.json().get("result") or {}
        return result

    async def send(self, method: str, body: dict[str, Any]) -> bool:
        """A Bot API call, tried again on 429, 5xx and network errors; a lasting failure is
        logged (the message is in the conversation either way)."""
        failed = await delivered(
            lambda: self.call(method, body),
            transient,
            (PlatformError, httpx.HTTPError),
            self.attempts,
            self.retry_wait,
        )
        if failed is not None:
            reason = str(failed).replace(self.access_token, "<token>")
            logger.error(
                "P422 Telegram did not take '%s' for %s: %s", method, body.get("chat_id"), reason
            )
        return failed is None

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        for start in range(0, len(text), MAX_TEXT):
            await self.send(
                "sendMessage", {"chat_id": recipient_id, "text": text[start : start + MAX_TEXT]}
            )

    async def send_image_url(self, recipient_id: str, image: str) -> None:
        await self.send("sendPhoto", {"chat_id": recipient_id, "photo": image})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]]
    ) -> None:
        keyboard = []
        for number, button in enumerate(buttons, start=1):
            title = str(button.get("title") or "")
            if button.get("url"):
                keyboard.append([{"text": title, "url": str(button["url"])}])
            else:
                payload = str(button.get("payload") or title)
                keyboard.append([{"text": title, "callback_data": callback_data(payload, number)}])
        await self.send(
            "sendMessage",
            {
                "chat_id": recipient_id,
                "text": text[:MAX_TEXT] or "…",
                "reply_markup": {"inline_keyboard": keyboard},
            },
        )

    async def send_custom_json(self, recipient_id: str, custom: dict[str, Any]) -> None:
        """A custom response with `text` (and any `sendMessage` field, `reply_markup`...) or
        `photo` is sent as it is; the knowledge base's `sources` are for the web chat."""
        fields = {k: v for k, v in custom.items() if k != "sources"}
        if "text" in fields:
            await self.send("sendMessage", {"chat_id": recipient_id, **fields})
        elif "photo" in fields:
            await self.send("sendPhoto", {"chat_id": recipient_id, **fields})

    async def send_typing(self, recipient_id: str, typing: bool) -> None:
        """The "typing…" line (while the assistant works, or a person writes): tried once,
        a failure ignored. Telegram shows it for five seconds, so there is nothing to stop."""
        if not typing:
            return
        chat_id = recipient_id
        try:
            await self.call("sendChatAction", {"chat_id": chat_id, "action": "typing"})
        except (PlatformError, httpx.HTTPError) as error:
            logger.debug("Telegram did not show typing for %s: %s", chat_id, type(error).__name__)


@register_channel("telegram")
class TelegramInput(InputChannel):
    """Rasa's `telegram` channel: `access_token`, `verify` (the bot's username) and
    `webhook_url` (where Telegram sends updates)."""

    def __init__(
        self,
        access_token: str,
        verify: str,
        webhook_url: str,
        secret_token: str | None = None,
        api_url: str = API_URL,
        retry_wait: float = FIRST_WAIT,
    ) -> None:
        self.access_token = access_token
        self.verify = verify
        self.webhook_url = webhook_url
        self.secret_token = secret_token or derived_secret(access_token)
        self.api_url = api_url
        self.retry_wait = retry_wait

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = required(
            credentials,
            ("access_token", "verify", "webhook_url"),
            "telegram",
            "{access_token: ${TELEGRAM_TOKEN}, verify: your_bot, "
            "webhook_url: https://<host>/webhooks/telegram/webhook}",
        )
        return cls(
            str(settings["access_token"]),
            str(settings["verify"]),
            str(settings["webhook_url"]),
            secret_token=settings.get("secret_token"),
            api_url=str(settings.get("api_url") or API_URL),
        )

    def get_output_channel(self) -> TelegramOutput:
        return TelegramOutput(self.access_token, self.api_url, retry_wait=self.retry_wait)

    async def set_webhook(self) -> bool:
        """Tell Telegram where to send updates, with the secret token it must send back."""
        body = {
            "url": self.webhook_url,
            "secret_token": self.secret_token,
            "allowed_updates": ["message", "edited_message", "callback_query"],
        }
        return await self.get_output_channel().send("setWebhook", body)

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        bp = webhook_blueprint(self)

        @bp.after_server_start
        async def register(*_: Any) -> None:
            if await self.set_webhook():
                logger.info("Telegram sends @%s's updates to %s", self.verify, self.webhook_url)

        async def set_webhook(request: Request) -> HTTPResponse:
            if not await self.set_webhook():
                raise ApiError(502, "BadGateway", "Telegram did not take the webhook (see the log)")
            return response.text("success")

        bp.add_route(set_webhook, "/set_webhook", methods=["GET", "POST"])

        @bp.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                logger.warning("a telegram update without the webhook's secret token: refused")
                raise ApiError(403, "Forbidden", "the secret token is missing or wrong")
            update = _update(request)
            message = await self._message(update, conversations)
            if message is not None:
                output = message.output_channel
                assert isinstance(output, TelegramOutput)
                await output.send_typing(message.sender_id, True)
                await on_new_message(message)
            return response.text("success")

        return bp

    async def _message(
        self, update: dict[str, Any], conversations: Conversations | None
    ) -> UserMessage | None:
        output = self.get_output_channel()
        query = update.get("callback_query")
        said = update.get("message") or update.get("edited_message")
        files: list[dict[str, Any]] = []
        if isinstance(query, dict):
            chat = ((query.get("message") or {}).get("chat") or {}).get("id")
            person = query.get("from") or {}
            data = str(query.get("data") or "")
            # Stop the button's spinner, whatever comes of the press.
            await output.send("answerCallbackQuery", {"callback_query_id": query.get("id")})
            if chat is not None and conversations is not None and _NUMBERED.match(data):
                tracker = await conversations.retrieve(str(chat))
                data = pressed_payload(tracker.events if tracker else [], data) or data
            text: str | None = data
        elif isinstance(said, dict):
            chat = (said.get("chat") or {}).get("id")
            person = said.get("from") or {}
            text = said.get("text") or said.get("caption")
            files = attachments_of(said)
        else:
            return None  # a member joining, a poll...: not the customer speaking
        if chat is None:
            return None
        metadata = {
            "telegram_user_id": person.get("id"),
            "username": person.get("username"),
            "language_code": person.get("language_code"),
        }
        metadata = {k: v for k, v in metadata.items() if v is not None}
        if files:
            metadata["attachments"] = files
        message = UserMessage(text, output, str(chat), metadata, input_channel=self.name())
        message.message_id = f"telegram-{update['update_id']}"
        return message


#: what a message may carry besides text, as Telegram names it
FILE_KINDS = ("photo", "document", "voice", "audio", "video", "sticker", "location", "contact")


def attachments_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """What a message carries besides text: its kind and Telegram's `file_id` (a photo's
    largest size), or the location or contact itself. No download URL: Telegram's has the
    bot's token in it."""
    found = []
    for kind in FILE_KINDS:
        item = message.get(kind)
        if not item:
            continue
        if kind == "photo" and isinstance(item, list):
            item = item[-1]  # the sizes, smallest first
        if kind in ("location", "contact"):
            found.append({"type": kind, **item})
        elif isinstance(item, dict):
            found.append({"type": kind, "file_id": item.get("file_id")})
    return found


def pressed_payload(events: list[Any], data: str) -> str | None:
    """The payload of the button `#<n>` of the latest bot message with buttons, before the
    customer's latest message."""
    found = _NUMBERED.match(data)
    if not found:
        return None
    for event in reversed(events):
        if isinstance(event, BotUttered) and event.data.get("buttons"):
            buttons = event.data["buttons"]
            number = int(found.group(1))
            if 1 <= number <= len(buttons):
                return str(buttons[number - 1].get("payload") or buttons[number - 1].get("title"))
            return None
        if isinstance(event, UserUttered) and event.text and not event.text.startswith("/"):
            return None  # the customer typed something since: the buttons are gone
    return None


def _update(request: Request) -> dict[str, Any]:
    """The update's JSON, or a 400 that says what is wrong with it."""
    try:
        update = json.loads(request.body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "BadRequest", f"the body is not JSON: {error}") from None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise ApiError(400, "BadRequest", "a Telegram update is an object with an 'update_id'")
    return update

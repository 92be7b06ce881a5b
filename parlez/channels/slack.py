"""Slack, under Rasa's name (`slack`) and credential keys.

Slack's Events API POSTs each event to `/webhooks/slack/webhook` (JSON), and its interactivity
POSTs each button press there too (a form with one `payload` field). Every request is signed
with the app's signing secret (`X-Slack-Signature`: `v0=` HMAC-SHA256 of
`v0:<timestamp>:<body>`, the timestamp in `X-Slack-Request-Timestamp` within five minutes): an
unsigned, forged or replayed request is refused (403) before anything is stored. The URL
check Slack makes when the app is set up (`url_verification`) is answered with its challenge.

Messages and mentions of the app become user messages whose id is Slack's own
(`client_msg_id`, else the event's `event_id`), so an event Slack sends again
(`X-Slack-Retry-Num`) is answered once. The conversation is the customer's (`sender`), the
Slack channel's or the thread's (`conversation_granularity`, as in Rasa). Answers go to the
channel the message came from (or `slack_channel`), in its thread with `use_threads`, through
the Web API's `chat.postMessage`; buttons are Block Kit buttons; 429 and 5xx are tried again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import (
    ChannelConfigError,
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
from parlez.http.errors import ApiError
from parlez.registry import register_channel

logger = logging.getLogger(__name__)

API_URL = "https://slack.com/api"
#: how old a request's timestamp may be (Slack's own advice: five minutes)
MAX_AGE = 5 * 60
#: Block Kit's limits: a section's text, a button's text and value, buttons in one block
MAX_SECTION = 3000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTONS = 25
GRANULARITIES = ("sender", "channel", "thread")
_MENTION = re.compile(r"<@[A-Z0-9]+>\s*")


def signature_matches(
    secret: str, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> bool:
    """Whether `signature` is Slack's `v0=` signature of `body` at `timestamp`, and the
    timestamp is recent (a replayed request is refused)."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > MAX_AGE:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class SlackOutput(OutputChannel):
    """Posts the bot's messages to one Slack channel (and thread) with the bot token."""

    def __init__(
        self,
        slack_token: str,
        channel: str,
        thread_ts: str | None = None,
        api_url: str = API_URL,
        attempts: int = ATTEMPTS,
        retry_wait: float = FIRST_WAIT,
    ) -> None:
        self.slack_token = slack_token
        self.channel = channel
        self.thread_ts = thread_ts
        self.api_url = api_url.rstrip("/")
        self.attempts = attempts
        self.retry_wait = retry_wait

    @classmethod
    def name(cls) -> str:
        return "slack"

    async def _post(self, body: dict[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {self.slack_token}"}
        reply = await platform_client().post(
            f"{self.api_url}/chat.postMessage", json=body, headers=headers
        )
        if reply.status_code >= 400:
            raise PlatformError(reply.status_code, reply.text)
        answer = reply.json()
        if not answer.get("ok"):
            raise PlatformError(200, str(answer.get("error") or "not ok"))

    async def post(self, **fields: Any) -> bool:
        body = {"channel": self.channel, **fields}
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        failed = await delivered(
            lambda: self._post(body),
            transient,
            (PlatformError, httpx.HTTPError),
            self.attempts,
            self.retry_wait,
        )
        if failed is not None:
            logger.error("P423 Slack did not take a message for %s: %s", self.channel, failed)
        return failed is None

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        await self.post(text=text)

    async def send_image_url(self, recipient_id: str, image: str) -> None:
        block = {"type": "image", "image_url": image, "alt_text": "image"}
        await self.post(text=image, blocks=[block])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]]
    ) -> None:
        elements = []
        for number, button in enumerate(buttons[:MAX_BUTTONS], start=1):
            title = str(button.get("title") or "")[:MAX_BUTTON_TEXT]
            element: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": title or "…"},
                "action_id": f"button-{number}",
            }
            if button.get("url"):
                element["url"] = str(button["url"])
            else:
                element["value"] = str(button.get("payload") or title)[:MAX_BUTTON_VALUE]
            elements.append(element)
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION] or "…"}},
            {"type": "actions", "elements": elements},
        ]
        await self.post(text=text, blocks=blocks)

    async def send_custom_json(self, recipient_id: str, custom: dict[str, Any]) -> None:
        """A custom response is `chat.postMessage`'s fields as they are (`blocks`,
        `attachments`...); the knowledge base's `sources` are for the web chat."""
        fields = {k: v for k, v in custom.items() if k not in ("sources", "channel")}
        if fields:
            await self.post(**fields)


@register_channel("slack")
class SlackInput(InputChannel):
    """Rasa's `slack` channel: `slack_token`, `slack_signing_secret`, and optionally
    `slack_channel`, `use_threads` and `conversation_granularity`."""

    def __init__(
        self,
        slack_token: str,
        slack_signing_secret: str,
        slack_channel: str | None = None,
        use_threads: bool = False,
        conversation_granularity: str = "sender",
        api_url: str = API_URL,
        retry_wait: float = FIRST_WAIT,
    ) -> None:
        if conversation_granularity not in GRANULARITIES:
            raise ChannelConfigError(
                f"the slack channel's conversation_granularity is one of "
                f"{', '.join(GRANULARITIES)}, not '{conversation_granularity}'"
            )
        self.slack_token = slack_token
        self.slack_signing_secret = slack_signing_secret
        self.slack_channel = slack_channel
        self.use_threads = use_threads
        self.conversation_granularity = conversation_granularity
        self.api_url = api_url
        self.retry_wait = retry_wait

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = required(
            credentials,
            ("slack_token", "slack_signing_secret"),
            "slack",
            "{slack_token: ${SLACK_BOT_TOKEN}, slack_signing_secret: ${SLACK_SIGNING_SECRET}}",
        )
        return cls(
            str(settings["slack_token"]),
            str(settings["slack_signing_secret"]),
            slack_channel=settings.get("slack_channel"),
            use_threads=bool(settings.get("use_threads", False)),
            conversation_granularity=str(settings.get("conversation_granularity") or "sender"),
            api_url=str(settings.get("api_url") or API_URL),
        )

    def get_output_channel(
        self, channel: str | None = None, thread_ts: str | None = None
    ) -> SlackOutput | None:
        target = self.slack_channel or channel
        if not target:
            return None  # where would it go? (`execute` with no message to answer)
        return SlackOutput(
            self.slack_token,
            target,
            thread_ts if self.use_threads else None,
            self.api_url,
            retry_wait=self.retry_wait,
        )

    def output_channel_for(self, metadata: dict[str, Any]) -> SlackOutput | None:
        """The channel (and thread) the customer last wrote from."""
        channel = metadata.get("slack_channel")
        thread = metadata.get("thread_ts")
        return self.get_output_channel(str(channel) if channel else None, thread)

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        bp = webhook_blueprint(self)

        @bp.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            if not signature_matches(
                self.slack_signing_secret,
                request.body,
                request.headers.get("X-Slack-Request-Timestamp"),
                request.headers.get("X-Slack-Signature"),
                time.time(),
            ):
                logger.warning("a slack request without a valid, recent signature: refused")
                raise ApiError(403, "Forbidden", "the X-Slack-Signature is missing, wrong or old")
            body = _body(request)
            if body.get("type") == "url_verification":
                return response.json({"challenge": body.get("challenge")})
            message = self._message(body)
            if message is not None:
                await on_new_message(message)
            # Slack wants its answer within 3 seconds, or it sends the event again: that
            # retry is then answered once (the message id).
            return response.text("")

        return bp

    def _message(self, body: dict[str, Any]) -> UserMessage | None:
        if body.get("type") == "block_actions":
            action = (body.get("actions") or [{}])[0]
            text = str(action.get("value") or "")
            user = str((body.get("user") or {}).get("id") or "")
            channel = str((body.get("channel") or {}).get("id") or "")
            container = body.get("container") or {}
            thread = container.get("thread_ts") or container.get("message_ts")
            message_id = f"slack-action-{action.get('action_ts') or body.get('trigger_id')}"
        elif body.get("type") == "event_callback":
            event = body.get("event") or {}
            if event.get("type") not in ("message", "app_mention"):
                return None
            if event.get("bot_id") or event.get("subtype"):
                return None  # the bot's own posts, edits, joins: not the customer speaking
            text = _MENTION.sub("", str(event.get("text") or "")).strip()
            user = str(event.get("user") or "")
            channel = str(event.get("channel") or "")
            thread = event.get("thread_ts") or event.get("ts")
            message_id = str(event.get("client_msg_id") or body.get("event_id") or "")
        else:
            return None
        if not user or not channel:
            return None
        sender = {
            "sender": user,
            "channel": channel,
            "thread": f"{channel}_{thread}",
        }[self.conversation_granularity]
        metadata = {"slack_user": user, "slack_channel": channel, "thread_ts": thread}
        output = self.get_output_channel(channel, thread)
        message = UserMessage(text, output, sender, metadata, input_channel=self.name())
        if message_id:
            message.message_id = message_id
        return message


def _body(request: Request) -> dict[str, Any]:
    """An event (JSON) or an interaction (a form whose `payload` is JSON), or a 400."""
    try:
        if (request.content_type or "").startswith("application/x-www-form-urlencoded"):
            payload = parse_qs(request.body.decode()).get("payload", [""])[0]
            body = json.loads(payload)
        else:
            body = json.loads(request.body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "BadRequest", f"the body is not Slack's JSON: {error}") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise ApiError(400, "BadRequest", "a Slack request is an object with a 'type'")
    return body

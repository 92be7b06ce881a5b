"""Facebook Messenger, under Rasa's name (`facebook`) and credential keys.

Meta calls `/webhooks/facebook/webhook`: a GET to verify the webhook when it is registered
(`hub.mode=subscribe`, `hub.verify_token` equal to `verify`, answered with `hub.challenge`),
then a POST per batch of events, signed with the app secret (`X-Hub-Signature-256`:
HMAC-SHA256 of the raw body). An unsigned or forged POST is refused (403) before anything is
read. Messages, quick replies and postbacks become user messages whose id is Meta's own
(`mid`), so a batch Meta delivers again is answered once (parlez/core/processor.py). The
bot's messages go out through the Graph API's Send API with the page access token: text,
button templates (quick replies beyond Messenger's three buttons), images and generic
templates, retried with backoff on 429 and 5xx; a message that still cannot be sent is
logged, and stays in the conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
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
from parlez.http.errors import ApiError
from parlez.registry import register_channel

logger = logging.getLogger(__name__)

GRAPH_URL = "https://graph.facebook.com/v21.0"
#: Messenger's limits: a button template holds 3 buttons, a message 13 quick replies, a
#: button or quick reply title 20 characters, a text 2000 characters (640 in a template)
MAX_BUTTONS = 3
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_TEXT = 2000
MAX_TEMPLATE_TEXT = 640
MAX_ELEMENTS = 10
#: the kinds of file the Send API takes by URL
ATTACHMENT_TYPES = ("image", "audio", "video", "file")
#: Messenger's windows after the customer's last message: any message within 24 hours, a
#: person's reply (tagged `HUMAN_AGENT`) within 7 days
STANDARD_WINDOW = 24 * 3600
HUMAN_AGENT_WINDOW = 7 * 24 * 3600


def _short(title: Any, limit: int = MAX_TITLE) -> str:
    text = str(title or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


class MessengerOutput(OutputChannel):
    """Sends the bot's messages through the Send API, as the page."""

    def __init__(
        self,
        page_access_token: str,
        graph_url: str = GRAPH_URL,
        attempts: int = ATTEMPTS,
        retry_wait: float = FIRST_WAIT,
    ) -> None:
        self.page_access_token = page_access_token
        self.graph_url = graph_url.rstrip("/")
        self.attempts = attempts
        self.retry_wait = retry_wait
        #: the message tag of the message being sent (a person's reply after 24 hours)
        self._tag: str | None = None

    @classmethod
    def name(cls) -> str:
        return "facebook"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """A person's reply from the console (`sent_by`) more than 24 hours after the
        customer's last message goes with Meta's `HUMAN_AGENT` tag, which allows 7 days;
        later than that it is not sent, and the log says why (P424)."""
        wrote = message.get("customer_wrote_at")
        age = time.time() - float(wrote) if message.get("sent_by") and wrote else 0.0
        if age > HUMAN_AGENT_WINDOW:
            logger.warning(
                "P424 a person's reply to %s was not sent: the customer last wrote %.0f days "
                "ago, and Messenger allows a person's reply for 7 days",
                recipient_id,
                age / 86400,
            )
            return
        self._tag = "HUMAN_AGENT" if age > STANDARD_WINDOW else None
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._tag = None

    async def send(self, recipient_id: str, payload: dict[str, Any]) -> bool:
        """POST one Send API request; tried again on 429, 5xx and network errors. A request
        that still fails is logged, not raised: the message is in the conversation."""
        body = {"recipient": {"id": recipient_id}, **payload}
        if self._tag and "message" in body:
            body.update(messaging_type="MESSAGE_TAG", tag=self._tag)
        failed = await delivered(
            lambda: self._post(body),
            transient,
            (PlatformError, httpx.HTTPError),
            self.attempts,
            self.retry_wait,
        )
        if failed is not None:
            logger.error("P420 Messenger did not take a message for %s: %s", recipient_id, failed)
        return failed is None

    async def _post(self, body: dict[str, Any]) -> None:
        # The token goes in a query parameter as the Send API wants it; httpx does not log URLs.
        url = f"{self.graph_url}/me/messages"
        params = {"access_token": self.page_access_token}
        reply = await platform_client().post(url, params=params, json=body)
        if reply.status_code >= 400:
            raise PlatformError(reply.status_code, reply.text)

    async def send_action(self, recipient_id: str, action: str) -> None:
        """`mark_seen`, `typing_on` or `typing_off`: tried once (they only show the customer
        that someone is there), a failure logged quietly."""
        try:
            await self._post({"recipient": {"id": recipient_id}, "sender_action": action})
        except (PlatformError, httpx.HTTPError) as error:
            logger.debug("Messenger did not take '%s' for %s: %s", action, recipient_id, error)

    async def send_typing(self, recipient_id: str, typing: bool) -> None:
        await self.send_action(recipient_id, "typing_on" if typing else "typing_off")

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        # Paragraphs are messages of their own, as in Rasa; each within Messenger's length.
        for paragraph in (p.strip() for p in text.split("\n\n")):
            while paragraph:
                await self.send(
                    recipient_id,
                    {"messaging_type": "RESPONSE", "message": {"text": paragraph[:MAX_TEXT]}},
                )
                paragraph = paragraph[MAX_TEXT:]

    async def send_image_url(self, recipient_id: str, image: str) -> None:
        await self._send_file(recipient_id, "image", image)

    async def send_attachment(self, recipient_id: str, attachment: Any) -> None:
        """A response's `attachment`: Messenger's own shape (`{"type": "file", "payload":
        {"url": ...}}`, or `audio`, `video`, `image`), or a bare URL, sent as a file."""
        if isinstance(attachment, dict) and attachment.get("type") in ATTACHMENT_TYPES:
            url = (attachment.get("payload") or {}).get("url") or attachment.get("url")
            kind = str(attachment["type"])
        else:
            url, kind = (attachment if isinstance(attachment, str) else None), "file"
        if not url:
            await super().send_attachment(recipient_id, attachment)
            return
        await self._send_file(recipient_id, kind, str(url))

    async def _send_file(self, recipient_id: str, kind: str, url: str) -> None:
        attachment = {"type": kind, "payload": {"url": url, "is_reusable": True}}
        await self.send(
            recipient_id, {"messaging_type": "RESPONSE", "message": {"attachment": attachment}}
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]]
    ) -> None:
        if len(buttons) > MAX_BUTTONS:
            # More than a template holds: quick replies show them all (URLs cannot be one).
            await self.send_quick_replies(recipient_id, text, buttons)
            return
        template = {
            "template_type": "button",
            "text": _short(text, MAX_TEMPLATE_TEXT) or "…",
            "buttons": [_button(b) for b in buttons],
        }
        await self.send(
            recipient_id,
            {
                "messaging_type": "RESPONSE",
                "message": {"attachment": {"type": "template", "payload": template}},
            },
        )

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]]
    ) -> None:
        replies = [
            {
                "content_type": "text",
                "title": _short(reply.get("title")),
                "payload": str(reply.get("payload") or reply.get("title") or ""),
            }
            for reply in quick_replies
            if not reply.get("url")
        ][:MAX_QUICK_REPLIES]
        await self.send(
            recipient_id,
            {
                "messaging_type": "RESPONSE",
                "message": {"text": _short(text, MAX_TEXT) or "…", "quick_replies": replies},
            },
        )

    async def send_elements(self, recipient_id: str, elements: list[dict[str, Any]]) -> None:
        template = {"template_type": "generic", "elements": elements[:MAX_ELEMENTS]}
        await self.send(
            recipient_id,
            {
                "messaging_type": "RESPONSE",
                "message": {"attachment": {"type": "template", "payload": template}},
            },
        )

    async def send_custom_json(self, recipient_id: str, custom: dict[str, Any]) -> None:
        """A `custom` response is a Send API `message` as it is, as in Rasa (the knowledge
        base's `sources` are for the web chat: Messenger has nowhere to show them)."""
        if set(custom) <= {"sources"}:
            return
        message = custom.get("message", custom)
        await self.send(recipient_id, {"messaging_type": "RESPONSE", "message": message})


def _button(button: dict[str, Any]) -> dict[str, Any]:
    title = _short(button.get("title"))
    if button.get("url") or button.get("type") == "web_url":
        return {"type": "web_url", "title": title, "url": str(button.get("url") or "")}
    return {"type": "postback", "title": title, "payload": str(button.get("payload") or "")}


@register_channel("facebook")
class MessengerInput(InputChannel):
    """Rasa's `facebook` channel: `verify`, `secret` and `page-access-token`."""

    def __init__(
        self,
        verify: str,
        secret: str,
        page_access_token: str,
        graph_url: str = GRAPH_URL,
        retry_wait: float = FIRST_WAIT,
    ) -> None:
        self.verify = verify
        self.secret = secret
        self.page_access_token = page_access_token
        #: the Graph API's base URL with its version (credentials.yml `graph_url`)
        self.graph_url = graph_url
        #: the first wait before a failed Send API request is tried again, in seconds
        self.retry_wait = retry_wait

    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = required(
            credentials,
            ("verify", "secret", "page-access-token"),
            cls.name(),
            "{verify: ${FB_VERIFY}, secret: ${FB_SECRET}, page-access-token: ${FB_PAGE_TOKEN}}",
        )
        return cls(
            str(settings["verify"]),
            str(settings["secret"]),
            str(settings["page-access-token"]),
            str(settings.get("graph_url") or GRAPH_URL),
        )

    def get_output_channel(self) -> MessengerOutput:
        return MessengerOutput(self.page_access_token, self.graph_url, retry_wait=self.retry_wait)

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        bp = webhook_blueprint(self)

        @bp.get("/webhook")
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                token.encode(), self.verify.encode()
            ):
                return response.text(str(request.args.get("hub.challenge") or ""))
            logger.warning("the %s webhook was asked to verify with a wrong token", self.name())
            raise ApiError(403, "Forbidden", "the verify token does not match")

        @bp.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            if not signature_matches(
                self.secret, request.body, request.headers.get("X-Hub-Signature-256")
            ):
                logger.warning("a %s webhook POST without a valid signature: refused", self.name())
                raise ApiError(
                    403, "Forbidden", "the X-Hub-Signature-256 signature is missing or wrong"
                )
            for message, output in self.messages_of(_body(request)):
                # Seen and typing while the assistant thinks, as a person on Messenger would.
                await output.send_action(message.sender_id, "mark_seen")
                await output.send_action(message.sender_id, "typing_on")
                await on_new_message(message)
            return response.text("success")

        return bp

    def messages_of(self, body: dict[str, Any]) -> list[tuple[UserMessage, MessengerOutput]]:
        """The user messages in a webhook body: messages, quick replies and postbacks. Echoes
        of the page's own messages, deliveries and reads are not the customer speaking."""
        found = []
        for entry in body["entry"]:
            for event in entry.get("messaging") or []:
                message = self._message(event, str(entry.get("id") or ""))
                if message is not None:
                    found.append(message)
        return found

    def _message(
        self, event: dict[str, Any], page: str
    ) -> tuple[UserMessage, MessengerOutput] | None:
        sender = str((event.get("sender") or {}).get("id") or "")
        if not sender:
            return None
        said = event.get("message") or {}
        postback = event.get("postback") or {}
        if said.get("is_echo"):
            return None
        text: str | None
        attachments: list[dict[str, Any]] = []
        if said.get("quick_reply"):
            text = str(said["quick_reply"].get("payload") or said.get("text") or "")
        elif said.get("text"):
            text = str(said["text"])
        elif said.get("attachments"):
            attachments = [a for a in said["attachments"] if isinstance(a, dict)]
            # As in Rasa: an attachment's URL is the message's text.
            text = str((attachments[0].get("payload") or {}).get("url") or "") or None
        elif postback:
            text = str(postback.get("payload") or postback.get("title") or "")
        else:
            return None
        mid = said.get("mid") or postback.get("mid")
        metadata: dict[str, Any] = {"psid": sender, "page_id": page}
        if attachments:
            metadata["attachments"] = attachments
        story = (said.get("reply_to") or {}).get("story")
        if story:  # Instagram: the customer answered the business's story
            metadata["story_reply"] = story
        output = self.get_output_channel()
        message = UserMessage(text, output, sender, metadata, input_channel=self.name())
        if mid:
            message.message_id = str(mid)
        return message, output


class InstagramOutput(MessengerOutput):
    """Instagram's messages through the same Send API; Instagram has no button template, so
    buttons are quick replies (a link button becomes a line of text)."""

    @classmethod
    def name(cls) -> str:
        return "instagram"

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]]
    ) -> None:
        links = [f"{b.get('title')}: {b['url']}" for b in buttons if b.get("url")]
        text = "\n".join([text, *links]) if links else text
        replies = [b for b in buttons if not b.get("url")]
        if replies:
            await self.send_quick_replies(recipient_id, text, replies)
        else:
            await self.send_text_message(recipient_id, text)


@register_channel("instagram")
class InstagramInput(MessengerInput):
    """Instagram messaging over the Messenger Platform's webhook (`object: instagram`), with
    the Facebook Page the Instagram account is linked to: the same keys as `facebook`. Story
    replies carry the story (`metadata.story_reply`); a story mention comes in as its URL;
    ice breakers are postbacks."""

    @classmethod
    def name(cls) -> str:
        return "instagram"

    def get_output_channel(self) -> InstagramOutput:
        return InstagramOutput(self.page_access_token, self.graph_url, retry_wait=self.retry_wait)


def _body(request: Request) -> dict[str, Any]:
    """The webhook's JSON body, or a 400 that says what is wrong with it."""
    try:
        body = json.loads(request.body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "BadRequest", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        raise ApiError(400, "BadRequest", "the body must be an object with an 'entry' list")
    if not all(
        isinstance(e, dict) and isinstance(e.get("messaging", []), list) for e in body["entry"]
    ):
        raise ApiError(400, "BadRequest", "each 'entry' must be an object with a 'messaging' list")
    return body

"""SMS and WhatsApp through Twilio, under Rasa's name (`twilio`) and credential keys.

Twilio POSTs each incoming message to `/webhooks/twilio/webhook` as a form, signed with the
account's auth token (`X-Twilio-Signature`, checked with the `twilio` package's
`RequestValidator` against the URL Twilio called: `webhook_url`, or the request's own URL as
the reverse proxy forwards it). An unsigned or forged request is refused (403) before
anything is stored. The answers go out through Twilio's REST API with the `twilio` SDK, from
`twilio_number` (a `whatsapp:` customer is answered from the WhatsApp sender of that
number), retried with backoff on 429, 5xx and network errors.

SMS has no buttons: they are written as numbered choices, and a customer who answers with a
digit sends that button's payload. Long texts are split at 1,600 characters (Twilio's limit).
A message whose id (`MessageSid`) the conversation already has is not answered again. The
carriers' keywords are honoured: after STOP (or UNSUBSCRIBE, CANCEL, END, QUIT, STOPALL)
the customer's messages are kept but not answered until START (or YES, UNSTOP); Twilio
itself confirms both and answers HELP. A "yes" from a customer who did not opt out is an
answer like any other.

Each answer asks Twilio to report what became of it at `/webhooks/twilio/status` (signed the
same way). Delivered, read, failed and undelivered land in the conversation as
`DeliveryReported` events, so the inbox shows the answers a customer never got; the steps
before (queued, sent) are acknowledged and not kept.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from parlez.channels.channel import (
    Conversations,
    InputChannel,
    OnNewMessage,
    OutputChannel,
    UserMessage,
)
from parlez.channels.retry import ATTEMPTS, FIRST_WAIT, delivered
from parlez.channels.webhook import required, webhook_blueprint
from parlez.events import (
    ACTION_LISTEN,
    NOT_DELIVERED,
    ActionExecuted,
    BotUttered,
    DeliveryReported,
    UserUttered,
)
from parlez.http.errors import ApiError
from parlez.registry import register_channel

if TYPE_CHECKING:
    from twilio.rest import Client

logger = logging.getLogger(__name__)

#: Twilio's longest message body
MAX_BODY = 1600
#: the carriers' opt-out and opt-in keywords (Twilio's defaults), matched on the whole message
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})
WHATSAPP = "whatsapp:"
#: the statuses a conversation keeps: what reached the customer, and what never will
KEPT_STATUSES = frozenset({"delivered", "read", "failed", "undelivered"})
#: how far back a repeated status report is looked for
REPEATS_WITHIN = 50
_DIGIT = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def transient(error: BaseException) -> bool:
    """Whether a failed call to Twilio's REST API may go through if tried again."""
    if isinstance(error, TwilioRestException):
        status = int(error.status)
        return status == 429 or status >= 500
    # network failures: the SDK speaks through `requests`, whose errors are OSErrors
    return isinstance(error, OSError)


def keyword(text: str | None) -> str:
    """The message as a carrier keyword (`STOP`, `START`...), or "" if it is not one."""
    word = (text or "").strip().upper().rstrip(".!")
    return word if word in OPT_OUT | OPT_IN | HELP else ""


def chunks(text: str, size: int = MAX_BODY) -> list[str]:
    """`text` in pieces of at most `size` characters, cut between words where possible."""
    pieces = []
    while len(text) > size:
        cut = text.rfind(" ", 0, size)
        cut = cut if cut > size // 2 else size
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def numbered(text: str, buttons: list[dict[str, Any]]) -> str:
    """The text followed by the buttons as numbered choices, as SMS shows them."""
    lines = [f"{n}. {b.get('title', '')}" for n, b in enumerate(buttons, start=1)]
    return "\n".join([text, *lines] if text else lines)


class TwilioOutput(OutputChannel):
    """Sends the bot's messages as SMS or WhatsApp messages through Twilio's REST API."""

    def __init__(
        self,
        client: Client,
        twilio_number: str,
        attempts: int = ATTEMPTS,
        retry_wait: float = FIRST_WAIT,
        status_callback: str | None = None,
    ) -> None:
        self.client = client
        self.twilio_number = twilio_number
        self.attempts = attempts
        self.retry_wait = retry_wait
        #: where Twilio reports each message's fate; None: where the number is set up to
        self.status_callback = status_callback

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def sender_for(self, recipient_id: str) -> str:
        """The number to send from: the WhatsApp sender of `twilio_number` for a WhatsApp
        customer."""
        number = self.twilio_number
        if recipient_id.startswith(WHATSAPP) and not number.startswith(WHATSAPP):
            return WHATSAPP + number
        return number

    async def send(self, recipient_id: str, **fields: Any) -> bool:
        """Create one message; tried again on 429, 5xx and network errors. A message that
        still fails is logged, not raised: it is in the conversation either way."""
        sender = self.sender_for(recipient_id)
        if self.status_callback:
            fields["status_callback"] = self.status_callback
        failed = await delivered(
            # The SDK is synchronous (`requests`): off the event loop.
            lambda: asyncio.to_thread(
                self.client.messages.create, to=recipient_id, from_=sender, **fields
            ),
            transient,
            (TwilioException, OSError),
            self.attempts,
            self.retry_wait,
        )
        if failed is not None:
            reason = getattr(failed, "msg", None) or failed
            logger.error("P421 Twilio did not take a message for %s: %s", recipient_id, reason)
        return failed is None

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        for piece in chunks(text):
            await self.send(recipient_id, body=piece)

    async def send_image_url(self, recipient_id: str, image: str) -> None:
        await self.send(recipient_id, media_url=[image])

    async def send_attachment(self, recipient_id: str, attachment: Any) -> None:
        url = attachment if isinstance(attachment, str) else (attachment or {}).get("url")
        if url:
            await self.send(recipient_id, media_url=[str(url)])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]]
    ) -> None:
        await self.send_text_message(recipient_id, numbered(text, buttons))

    async def send_custom_json(self, recipient_id: str, custom: dict[str, Any]) -> None:
        """Only a custom `text` or `media_url` can go by SMS; the knowledge base's `sources`
        are for the web chat."""
        if custom.get("text"):
            await self.send_text_message(recipient_id, str(custom["text"]))
        if custom.get("media_url"):
            await self.send(recipient_id, media_url=list(custom["media_url"]))


@register_channel("twilio")
class TwilioInput(InputChannel):
    """Rasa's `twilio` channel: `account_sid`, `auth_token` and `twilio_number`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        webhook_url: str | None = None,
        api_url: str | None = None,
        retry_wait: float = FIRST_WAIT,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.twilio_number = twilio_number
        #: the public URL Twilio calls, which its signature covers (behind a proxy, the
        #: request's own URL may differ from it)
        self.webhook_url = webhook_url
        self.retry_wait = retry_wait
        self.client = rest_client(account_sid, auth_token, api_url)
        self.signatures = SignedForms(auth_token, webhook_url)

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = required(
            credentials,
            ("account_sid", "auth_token", "twilio_number"),
            "twilio",
            "{account_sid: ${TWILIO_ACCOUNT_SID}, auth_token: ${TWILIO_AUTH_TOKEN}, "
            "twilio_number: '+15551234567'}",
        )
        return cls(
            str(settings["account_sid"]),
            str(settings["auth_token"]),
            str(settings["twilio_number"]),
            webhook_url=settings.get("webhook_url"),
            api_url=settings.get("api_url"),
        )

    def get_output_channel(self, status_callback: str | None = None) -> TwilioOutput:
        return TwilioOutput(
            self.client,
            self.twilio_number,
            retry_wait=self.retry_wait,
            status_callback=status_callback or status_url(self.webhook_url),
        )

    def signed_url(self, request: Request) -> str:
        return self.signatures.url(request)

    def signed_form(self, request: Request) -> dict[str, str]:
        return self.signatures.form(request)

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        bp = webhook_blueprint(self)

        @bp.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            form = self.signed_form(request)
            sender = form.get("From") or ""
            if not sender or "MessageSid" not in form:
                raise ApiError(400, "BadRequest", "a Twilio message has 'From' and 'MessageSid'")
            # The answers' reports go next to the URL Twilio just called (its signature
            # vouches for that URL).
            output = self.get_output_channel(status_url(self.signed_url(request)))
            await self._handle(form, sender, output, on_new_message, conversations)
            # Answers go through the REST API: the webhook's own reply says nothing.
            return response.text(str(MessagingResponse()), content_type="text/xml")

        @bp.post("/status")
        async def report(request: Request) -> HTTPResponse:
            form = self.signed_form(request)
            if not form.get("MessageSid") or not form.get("To"):
                raise ApiError(
                    400, "BadRequest", "a Twilio status report has 'MessageSid' and 'To'"
                )
            status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
            if not status:
                raise ApiError(400, "BadRequest", "a Twilio status report has 'MessageStatus'")
            if conversations is not None:
                await self._keep_report(form, status, conversations)
            return response.empty()

        return bp

    async def _keep_report(
        self, form: dict[str, str], status: str, conversations: Conversations
    ) -> None:
        """Add a status report to the customer's conversation, once; a report of no
        conversation we have, or of a step before delivery, is acknowledged and dropped."""
        customer, sid = form["To"], form["MessageSid"]
        error = form.get("ErrorCode") or None
        if status in NOT_DELIVERED:
            logger.warning(
                "P425 Twilio could not deliver message %s to %s: %s (error %s)",
                sid,
                customer,
                status,
                error or "not given",
            )
        if status not in KEPT_STATUSES:
            return
        tracker = await conversations.retrieve(customer)
        if tracker is None:
            return
        report = DeliveryReported(
            message_id=sid, status=status, error=error, metadata={"channel": self.name()}
        )
        recent = tracker.events[-REPEATS_WITHIN:]
        if any(isinstance(e, DeliveryReported) and e == report for e in recent):
            return  # Twilio repeats a report its first delivery of failed to confirm
        await conversations.append_events(customer, [report])

    async def _handle(
        self,
        form: dict[str, str],
        sender: str,
        output: TwilioOutput,
        on_new_message: OnNewMessage,
        conversations: Conversations | None,
    ) -> None:
        text: str | None = form.get("Body") or ""
        media = [
            {"url": form[f"MediaUrl{n}"], "content_type": form.get(f"MediaContentType{n}")}
            for n in range(int(form.get("NumMedia") or 0))
            if form.get(f"MediaUrl{n}")
        ]
        if not text and media:
            text = media[0]["url"]  # as Messenger's channel does: the attachment's URL
        metadata: dict[str, Any] = {
            "phone": sender.removeprefix(WHATSAPP),
            "to": form.get("To"),
            "whatsapp": sender.startswith(WHATSAPP),
        }
        if media:
            metadata["media"] = media
        tracker = await conversations.retrieve(sender) if conversations else None
        said = keyword(text)
        out = tracker is not None and opted_out(tracker.events)
        if said in OPT_OUT | HELP or out:
            # STOP and HELP (Twilio answers those), and anything said while opted out (START
            # included: Twilio confirms it): kept in the conversation, not answered. A "yes"
            # from a customer who never opted out is an answer like any other.
            if conversations is not None:
                kept = UserUttered(
                    text,
                    message_id=form["MessageSid"],
                    input_channel=self.name(),
                    metadata=metadata,
                )
                # ...followed by listening, as a message to a conversation a person has.
                await conversations.append_events(sender, [kept, ActionExecuted(ACTION_LISTEN)])
            return
        if tracker is not None:
            text = chosen_button(tracker.events, text) or text
        message = UserMessage(text, output, sender, metadata, input_channel=self.name())
        message.message_id = form["MessageSid"]
        await on_new_message(message)


def rest_client(account_sid: str, auth_token: str, api_url: str | None = None) -> Client:
    """The `twilio` SDK's client of the account, on `api_url` when it is given (another
    Twilio region's REST API, or a test's). Imported here: the SDK's client brings requests
    (0.1 s), which a server whose credentials name no Twilio channel never needs."""
    from twilio.rest import Client

    client = Client(account_sid, auth_token)
    if api_url:
        client.api.base_url = api_url.rstrip("/")
    return client


def status_url(webhook_url: str | None) -> str | None:
    """Where Twilio reports the fate of the answers: next to the message webhook."""
    return sibling_url(webhook_url, "status")


def sibling_url(webhook_url: str | None, route: str) -> str | None:
    """The channel's `route` next to its `/webhook` URL (query kept); None if the URL does
    not end in `/webhook`."""
    if not webhook_url:
        return None
    base, mark, query = webhook_url.partition("?")
    if not base.endswith("/webhook"):
        return None
    return base.removesuffix("/webhook") + f"/{route}" + mark + query


class SignedForms:
    """Twilio's webhooks to one channel, each a form signed with the account's auth token
    (`X-Twilio-Signature`) over the URL Twilio called and every parameter."""

    def __init__(self, auth_token: str, webhook_url: str | None = None) -> None:
        self.validator = RequestValidator(auth_token)
        #: the public URL Twilio calls, which its signature covers (behind a proxy, the
        #: request's own URL may differ from it)
        self.webhook_url = webhook_url

    def url(self, request: Request) -> str:
        """The URL Twilio signed: `webhook_url` (or, for another route of the channel, its
        sibling), else this request's own URL as the proxy forwards it."""
        if self.webhook_url:
            route = request.path.rstrip("/").rsplit("/", 1)[-1]
            return sibling_url(self.webhook_url, route) or self.webhook_url
        scheme = request.headers.get("X-Forwarded-Proto") or request.scheme
        host = request.headers.get("X-Forwarded-Host") or request.host
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{scheme}://{host}{request.path}{query}"

    def form(self, request: Request) -> dict[str, str]:
        """The request's form, once its `X-Twilio-Signature` is found right; a 403 otherwise."""
        # Twilio signs every parameter, empty ones (a photo without a caption) included.
        parsed: dict[str, list[str]] = request.get_form(keep_blank_values=True) or {}
        form = {key: values[0] for key, values in parsed.items()}
        signature = request.headers.get("X-Twilio-Signature") or ""
        if not signature or not self.validator.validate(self.url(request), form, signature):
            logger.warning("a twilio %s POST without a valid signature: refused", request.path)
            raise ApiError(403, "Forbidden", "the X-Twilio-Signature is missing or wrong")
        return form


def opted_out(events: list[Any]) -> bool:
    """Whether the customer's latest carrier keyword is an opt-out (STOP)."""
    for event in reversed(events):
        if isinstance(event, UserUttered):
            word = keyword(event.text)
            if word in OPT_OUT:
                return True
            if word in OPT_IN:
                return False
    return False


def chosen_button(events: list[Any], text: str | None) -> str | None:
    """The payload of the button a digit answer picks among the latest bot message's, if the
    assistant's last word had buttons."""
    found = _DIGIT.match(text or "")
    if not found:
        return None
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons") or (event.data or {}).get("quick_replies")
            if not buttons:
                return None
            number = int(found.group(1))
            if 1 <= number <= len(buttons):
                return str(buttons[number - 1].get("payload") or buttons[number - 1].get("title"))
            return None
    return None

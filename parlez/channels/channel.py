"""The channel contract: a `UserMessage` in, bot messages out through an `OutputChannel`."""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from parlez.exceptions import ParlezError

if TYPE_CHECKING:
    from sanic import Blueprint, Request

    from parlez.events import Event
    from parlez.stores.lock_store import SharedRedis
    from parlez.tracker import DialogueStateTracker

DEFAULT_SENDER = "default"


class ChannelConfigError(ParlezError):
    """A channel in credentials.yml that cannot be built: unknown, or its keys are wrong."""

    code = "P410"


#: Rasa's `events.sender_id` column holds 255 characters.
MAX_SENDER_ID = 255

#: Characters no conversation id may hold: control characters (NUL, which PostgreSQL cannot
#: store, included) and halves of UTF-16 pairs, which cannot be written as UTF-8.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def sender_id_problem(sender_id: str) -> str | None:
    """Why `sender_id` cannot name a conversation, or None if it can."""
    if not sender_id:
        return "a conversation id cannot be empty"
    if len(sender_id) > MAX_SENDER_ID:
        return f"a conversation id is at most {MAX_SENDER_ID} characters, not {len(sender_id)}"
    found = _UNSTORABLE.search(sender_id)
    if found:
        return (
            f"a conversation id cannot hold the character U+{ord(found.group()):04X} "
            f"(position {found.start() + 1})"
        )
    return None


@dataclass
class UserMessage:
    text: str | None
    output_channel: OutputChannel | None = None
    sender_id: str = DEFAULT_SENDER
    metadata: dict[str, Any] | None = None
    input_channel: str | None = None
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: a parse given by the caller (e.g. `/intent{"entity": "value"}` or trigger_intent)
    parse_data: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.output_channel is None:
            self.output_channel = CollectingOutputChannel()


class OutputChannel(ABC):
    """Sends bot messages to the user; channels override the parts their platform has."""

    @classmethod
    def name(cls) -> str:
        return "collector"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message: text, then images, buttons, quick replies, elements, custom."""
        if message.get("quick_replies"):
            await self.send_quick_replies(
                recipient_id, message.get("text") or "", message["quick_replies"]
            )
        elif message.get("buttons"):
            await self.send_text_with_buttons(
                recipient_id, message.get("text") or "", message["buttons"]
            )
        elif message.get("text"):
            await self.send_text_message(recipient_id, message["text"])
        if message.get("custom"):
            await self.send_custom_json(recipient_id, message["custom"])
        if message.get("image"):
            await self.send_image_url(recipient_id, message["image"])
        if message.get("attachment"):
            await self.send_attachment(recipient_id, message["attachment"])
        if message.get("elements"):
            await self.send_elements(recipient_id, message["elements"])

    @abstractmethod
    async def send_text_message(self, recipient_id: str, text: str) -> None:
        """Send plain text: the one thing every channel must be able to do."""

    async def send_image_url(self, recipient_id: str, image: str) -> None:
        await self.send_text_message(recipient_id, f"Image: {image}")

    async def send_attachment(self, recipient_id: str, attachment: Any) -> None:
        await self.send_text_message(recipient_id, f"Attachment: {attachment}")

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]]
    ) -> None:
        await self.send_text_message(recipient_id, text)
        for index, button in enumerate(buttons, start=1):
            await self.send_text_message(recipient_id, f"{index}: {button.get('title')}")

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]]
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_elements(self, recipient_id: str, elements: list[dict[str, Any]]) -> None:
        for element in elements:
            await self.send_text_message(recipient_id, str(element.get("title", "")))

    async def send_custom_json(self, recipient_id: str, custom: dict[str, Any]) -> None:
        await self.send_text_message(recipient_id, str(custom))

    async def send_typing(self, recipient_id: str, typing: bool) -> None:
        """Show the customer that someone is writing to them (a person in the console), or
        no longer is. Only a hint: channels that cannot show it do nothing, and a channel
        that can tries once and ignores a failure."""
        return None


class CollectingOutputChannel(OutputChannel):
    """Keeps the bot's messages in a list in Rasa's REST shape (`recipient_id`, `text`, ...)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    @classmethod
    def name(cls) -> str:
        return "collector"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        out: dict[str, Any] = {"recipient_id": recipient_id}
        for key in (
            "text",
            "image",
            "buttons",
            "quick_replies",
            "attachment",
            "elements",
            "custom",
        ):
            if message.get(key):
                out[key] = message[key]
        self.messages.append(out)

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        self.messages.append({"recipient_id": recipient_id, "text": text})


class CallbackOutputChannel(CollectingOutputChannel):
    """Hands each message to a coroutine as soon as the action produced it."""

    def __init__(self, on_message: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        super().__init__()
        self.on_message = on_message

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await super().send_response(recipient_id, message)
        await self.on_message(self.messages[-1])


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class Conversations(Protocol):
    """What a channel may do to conversations besides handing over a new message. The server
    gives it to `InputChannel.blueprint`; every change holds the conversation's lock, exactly
    as a message does, so it never interleaves with one."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation as stored; None if it has not started."""

    async def retrieve_after_turn(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation once the message being answered, if any, is saved."""

    async def append_events(
        self, sender_id: str, events: Sequence[Event], output: OutputChannel | None = None
    ) -> DialogueStateTracker:
        """Add `events` (a rating, a slot...) to the conversation, started first if new."""

    async def execute_action(
        self,
        sender_id: str,
        name: str,
        output: OutputChannel,
        policy: str | None = None,
        confidence: float | None = None,
        events: Sequence[Event] = (),
    ) -> DialogueStateTracker:
        """Run the action `name` now, after `events` if any are given."""

    async def track(
        self,
        sender_id: str,
        name: str,
        value: float | None = None,
        currency: str = "",
        order_id: str = "",
    ) -> bool:
        """Keep what the business's page reported of the visitor of conversation `sender_id`
        (a visit, a purchase); False when it was kept already (the same order, today's
        visit) or when there is nowhere to keep it (no console database)."""

    def shared_redis(self) -> SharedRedis | None:
        """The Redis server this assistant's server processes share (the lock store's), for
        what a channel must share between them: socket.io's rooms, rate limits, message ids
        seen. None with one process."""


class InputChannel(ABC):
    """A place users write from. Its Sanic blueprint is served under `/webhooks/<name>/`.

    `credentials.yml` names a channel by `name()` (the built-ins) or by the dotted path of a
    subclass; its settings go to `from_credentials`.
    """

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def url_prefix(self) -> str:
        return self.name()

    @abstractmethod
    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        """The routes (`/` health and `/webhook` at least) that turn requests into messages.

        `conversations` is for what is not a new message (a rating, a transcript, a handoff
        check); a channel written for Rasa takes `on_new_message` alone and still works."""

    def get_output_channel(self) -> OutputChannel | None:
        """Where messages the bot starts on its own (`execute`, reminders) go; None if nowhere."""
        return None

    def reconfigure(self, credentials: dict[str, Any] | None) -> bool:
        """Take the channel's new settings (its block of credentials.yml, `${VAR}` expanded)
        while it serves. False: some of them apply only when the server starts again (a
        webhook's secrets, say), as here by default."""
        return False

    def output_channel_for(self, metadata: dict[str, Any]) -> OutputChannel | None:
        """Where a message to a customer goes outside a turn (a person's reply from the
        console, `execute`), given the `metadata` of the customer's latest message: a channel
        whose answers depend on where the message came from (a Slack channel and thread)
        reads it there. By default `get_output_channel()`."""
        return self.get_output_channel()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        return None

    def actions_used(self) -> list[str]:
        """Domain actions this channel runs itself, outside stories and rules (so that
        `parlez data validate` does not call them unused)."""
        return []

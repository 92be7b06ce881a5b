"""A channel for tests whose customer's screen is a list: what the bot sent, and when it was
shown someone typing. Reached like any channel, through the state's `output_channel`."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint

from parlez.channels.channel import Conversations, InputChannel, OnNewMessage, OutputChannel
from parlez.channels.webhook import webhook_blueprint


class Phone(InputChannel):
    def __init__(self) -> None:
        #: {"to": the customer, "text": what they read}, in order
        self.received: list[dict[str, Any]] = []
        #: (the customer, typing or not), in order
        self.typing: list[tuple[str, bool]] = []
        #: what the platform says when it refuses a message; None: it takes them all
        self.refusal: str | None = None

    @classmethod
    def name(cls) -> str:
        return "phone"

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        return webhook_blueprint(self)

    def get_output_channel(self) -> OutputChannel:
        phone = self

        class Screen(OutputChannel):
            async def send_text_message(self, recipient_id: str, text: str) -> None:
                if phone.refusal is not None:
                    raise RuntimeError(phone.refusal)
                phone.received.append({"to": recipient_id, "text": text})

            async def send_typing(self, recipient_id: str, typing: bool) -> None:
                phone.typing.append((recipient_id, typing))

        return Screen()

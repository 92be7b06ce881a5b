"""Rasa's callback channel: messages come in on a webhook, the bot's answers are POSTed to
the `url` in credentials.yml, one request per message (for systems that cannot wait)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import (
    ChannelConfigError,
    CollectingOutputChannel,
    Conversations,
    InputChannel,
    OnNewMessage,
    UserMessage,
)
from parlez.channels.rest import message_fields
from parlez.channels.webhook import webhook_blueprint
from parlez.registry import register_channel

logger = logging.getLogger(__name__)


class CallbackOutput(CollectingOutputChannel):
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout

    @classmethod
    def name(cls) -> str:
        return "callback"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await super().send_response(recipient_id, message)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            reply = await client.post(self.url, json=self.messages[-1])
        if reply.status_code >= 400:
            # Logged, not raised: the message is in the conversation's events either way.
            logger.error(
                "the callback at %s refused a message (HTTP %d): %s",
                self.url,
                reply.status_code,
                reply.text[:200],
            )


@register_channel("callback")
class CallbackInput(InputChannel):
    def __init__(self, url: str) -> None:
        self.url = url

    @classmethod
    def name(cls) -> str:
        return "callback"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        url = (credentials or {}).get("url")
        if not url:
            raise ChannelConfigError(
                "the callback channel needs the 'url' to send the bot's messages to",
                hint="credentials.yml: callback: {url: 'http://localhost:5034/bot'}",
            )
        return cls(str(url))

    def get_output_channel(self) -> CallbackOutput:
        return CallbackOutput(self.url)

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        bp = webhook_blueprint(self)

        @bp.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            sender, text, metadata = message_fields(request)
            await on_new_message(
                UserMessage(
                    text, self.get_output_channel(), sender, metadata, input_channel=self.name()
                )
            )
            return response.text("success")

        return bp

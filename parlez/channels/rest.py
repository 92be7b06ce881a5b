"""Rasa's REST channel: POST a message, get the bot's answers back in the response.

`POST /webhooks/rest/webhook` with `{"sender": "...", "message": "...", "metadata": {...}}`
answers with the list of bot messages (`recipient_id`, `text`, `buttons`, `image`, `custom`).
With `?stream=true` each message is sent as one JSON line as soon as the bot produces it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import (
    CallbackOutputChannel,
    CollectingOutputChannel,
    Conversations,
    InputChannel,
    OnNewMessage,
    UserMessage,
    sender_id_problem,
)
from parlez.channels.webhook import webhook_blueprint
from parlez.http.bodies import json_object
from parlez.http.errors import ApiError
from parlez.registry import register_channel


def message_fields(request: Request) -> tuple[str, str, dict[str, Any] | None]:
    """Sender, text and metadata of a webhook body, or a 400 that says which field is wrong."""
    body = json_object(request)
    sender = body.get("sender", "default")
    if not isinstance(sender, str | int) or isinstance(sender, bool) or str(sender) == "":
        raise ApiError(400, "BadRequest", "'sender' must be a non-empty string")
    sender = str(sender)
    problem = sender_id_problem(sender)
    if problem is not None:
        raise ApiError(400, "BadRequest", f"'sender': {problem}")
    text = body.get("message", body.get("text"))
    if text is None:
        raise ApiError(
            400, "BadRequest", """'message' is missing: send {"sender": "...", "message": "..."}"""
        )
    if not isinstance(text, str):
        raise ApiError(400, "BadRequest", "'message' must be a string")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ApiError(400, "BadRequest", "'metadata' must be an object")
    return sender, text, metadata


@register_channel("rest")
class RestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        bp = webhook_blueprint(self)

        @bp.post("/webhook")
        async def receive(request: Request) -> HTTPResponse | None:
            sender, text, metadata = message_fields(request)
            metadata = {**(self.get_metadata(request) or {}), **(metadata or {})}
            if request.args.get("stream", "false").lower() == "true":
                await self._stream(request, on_new_message, sender, text, metadata)
                return None
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(text, collector, sender, metadata or None, input_channel=self.name())
            )
            return response.json(collector.messages)

        return bp

    async def _stream(
        self,
        request: Request,
        on_new_message: OnNewMessage,
        sender: str,
        text: str | None,
        metadata: dict[str, Any],
    ) -> None:
        stream: Any = await request.respond(content_type="application/x-ndjson")
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        async def handle() -> None:
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        CallbackOutputChannel(queue.put),
                        sender,
                        metadata or None,
                        input_channel=self.name(),
                    )
                )
            finally:
                await queue.put(None)

        task = asyncio.create_task(handle())
        while (message := await queue.get()) is not None:
            await stream.send(json.dumps(message) + "\n")
        await task
        await stream.eof()

"""What the widget is sent: one bot message as one object, and a conversation's history."""

from __future__ import annotations

from typing import Any

from parlez.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    UserUttered,
)

#: keys a bot message may carry to the widget, in Rasa's names
MESSAGE_KEYS = ("text", "quick_replies", "attachment", "custom", "sources", "timestamp")


def bot_message(message: dict[str, Any]) -> dict[str, Any]:
    """A bot message as Rasa's socket.io channel shapes it, with the parts the widget adds:
    buttons become `quick_replies`, an image or a carousel an `attachment`, knowledge-base
    `sources` are lifted out of the custom payload that carries them."""
    out: dict[str, Any] = {}
    if message.get("text"):
        out["text"] = str(message["text"])
    buttons = message.get("quick_replies") or message.get("buttons")
    if buttons:
        out["quick_replies"] = [
            {k: b.get(k) for k in ("title", "payload", "url", "type") if b.get(k) is not None}
            | {"content_type": "text"}
            for b in buttons
            if isinstance(b, dict)
        ]
    if message.get("image"):
        out["attachment"] = {"type": "image", "payload": {"src": message["image"]}}
    elif message.get("attachment"):
        out["attachment"] = message["attachment"]
    elif message.get("elements"):
        out["attachment"] = {
            "type": "template",
            "payload": {"template_type": "generic", "elements": message["elements"]},
        }
    custom = message.get("custom")
    if isinstance(custom, dict):
        custom = dict(custom)
        if isinstance(custom.get("sources"), list):
            out["sources"] = custom.pop("sources")
        if custom:
            out["custom"] = custom
    if message.get("timestamp"):
        out["timestamp"] = message["timestamp"]
    return out


def history(events: list[Event], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The messages of the conversation since its last restart, oldest first, and whether a
    person has taken it over (it is paused)."""
    messages: list[dict[str, Any]] = []
    paused = False
    for event in events:
        if isinstance(event, Restarted):
            messages, paused = [], False
        elif isinstance(event, SessionStarted):
            paused = False
        elif isinstance(event, ConversationPaused):
            paused = True
        elif isinstance(event, ConversationResumed):
            paused = False
        elif isinstance(event, UserUttered):
            if event.metadata.get("hidden"):
                continue  # the greeting payload the widget sends on its own
            item: dict[str, Any] = {
                "sender": "user",
                "text": event.metadata.get("display") or event.text or "",
                "timestamp": event.timestamp,
                "id": event.message_id,
            }
            if isinstance(event.metadata.get("attachment"), dict):
                item["attachment"] = event.metadata["attachment"]
            messages.append(item)
        elif isinstance(event, BotUttered):
            message = bot_message(event.message())
            message["sender"] = "bot"
            message["human"] = paused
            messages.append(message)
    return messages[-limit:] if limit else [], paused

"""Handing a conversation to a person: the assistant pauses, the business is told.

The conversation is paused with Rasa's `pause` event: the customer's messages are still
stored but the assistant stays quiet. A person answers through the HTTP API (a `bot` event
with `execute_side_effects`, sent out on the customer's own channel) and hands back with a
`resume` event. A caller on the phone is put through to the business's number
(`contact.phone` of business.yml) by the voice channel.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, business
from actions.services import send_template

TRANSCRIPT_MESSAGES = 12
VOICE_CHANNEL = "twilio_voice"
#: what a caller hears when nobody from the team picks up the transferred call
UNANSWERED = "utter_transfer_failed"


def transcript(tracker: Tracker, last: int | None = TRANSCRIPT_MESSAGES) -> str:
    """The conversation as lines of text: what the customer wrote (a button as its title),
    what the assistant and the team answered."""
    lines = []
    paused = False
    for event in tracker.events:
        kind = event.get("event")
        metadata = event.get("metadata") or {}
        if kind == "pause":
            paused = True
        elif kind in ("resume", "restart"):
            paused = False
        elif kind == "user" and event.get("text") and not metadata.get("hidden"):
            lines.append(f"Customer: {metadata.get('display') or event['text']}")
        elif kind == "bot" and event.get("text"):
            lines.append(f"{'Team' if paused else 'Assistant'}: {event['text']}")
    return "\n".join(lines[-last:] if last else lines)


def handoff_values(tracker: Tracker) -> dict[str, Any]:
    """What the handoff notice's templates say (actions/templates/handoff.*)."""
    name = str(tracker.get_slot("customer_name") or "")
    return {
        "sender_id": tracker.sender_id,
        "name": name or "(no name given)",
        "email": str(tracker.get_slot("email") or ""),
        "transcript": transcript(tracker),
    }


def notify(settings: Business, tracker: Tracker) -> None:
    to = settings.contact.notify or settings.contact.email
    if not to:
        return
    name = str(tracker.get_slot("customer_name") or "")
    subject = f"A customer wants a person: {name or tracker.sender_id}"
    send_template(settings, to, subject, "handoff", handoff_values(tracker))


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = business()
        await asyncio.to_thread(notify, settings, tracker)
        number = dialled(settings.contact.phone)
        if tracker.get_latest_input_channel() == VOICE_CHANNEL and number:
            # The voice channel transfers the call there (and gives the caller back to the
            # assistant if nobody answers).
            dispatcher.utter_message(json_message={"dial": number, "unanswered": UNANSWERED})
        return [ConversationPaused()]


def dialled(phone: str | None) -> str:
    """A phone number as written in business.yml ("+44 20 7946 0321"), as dialled."""
    return re.sub(r"[^\d+]", "", phone or "")

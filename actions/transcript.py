"""A copy of the conversation e-mailed to the customer, asked for when the web chat ends."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, business
from actions.handoff import transcript
from actions.services import send_template
from actions.validation import valid_email


def transcript_values(settings: Business, tracker: Tracker) -> dict[str, Any]:
    """What the transcript e-mail's templates say (actions/templates/transcript.*)."""
    return {"business": settings.name, "transcript": transcript(tracker, last=None)}


class ActionSendTranscript(Action):
    """Sends the whole conversation to the `email` slot, which the web chat sets from what
    the customer typed when they asked for it. Says nothing: the chat has ended."""

    def name(self) -> str:
        return "action_send_transcript"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = valid_email(tracker.get_slot("email"))
        if email is None:
            return []
        settings = business()
        subject = f"Your conversation with {settings.name}"
        values = transcript_values(settings, tracker)
        # Sent, or kept in the outbox for the next try: the mailer never raises.
        await asyncio.to_thread(send_template, settings, email, subject, "transcript", values)
        return []

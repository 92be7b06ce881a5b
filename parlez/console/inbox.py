"""What the inbox shows of a conversation (channel, customer, status, assignee, latest
message), decided from its events, and the transcript of its page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parlez.console.database import Assignment
from parlez.events import BotUttered, UserUttered
from parlez.tracker import DialogueStateTracker

#: slots that name the customer, in the order they are trusted
NAME_SLOTS = ("customer_name", "name", "email")


class Status:
    BOT = "bot"  # the assistant is answering
    OPEN = "open"  # handed over, waiting for a person
    HUMAN = "human"  # a person has it
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Summary:
    sender_id: str
    channel: str
    customer: str
    language: str
    status: str
    assignee: str | None
    last_text: str
    last_at: float
    team: str | None = None


@dataclass(frozen=True)
class Facts:
    """What the inbox shows of a conversation that only its events decide."""

    paused: bool
    channel: str
    customer: str
    language: str
    last_text: str
    last_at: float


def status_of(paused: bool, held: Assignment | None) -> str:
    if paused:
        return Status.HUMAN if held is not None and held.assignee else Status.OPEN
    if held is not None and held.status == Status.RESOLVED:
        return Status.RESOLVED
    return Status.BOT


def customer_of(tracker: DialogueStateTracker) -> str:
    for slot in NAME_SLOTS:
        value = tracker.get_slot(slot)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return tracker.sender_id


def language_of(tracker: DialogueStateTracker) -> str:
    value = tracker.get_slot("language")
    return value if isinstance(value, str) else ""


def facts(tracker: DialogueStateTracker) -> Facts:
    last = next(
        (e for e in reversed(tracker.events) if isinstance(e, UserUttered | BotUttered)), None
    )
    return Facts(
        paused=tracker.is_paused(),
        channel=tracker.latest_input_channel() or "",
        customer=customer_of(tracker),
        language=language_of(tracker),
        last_text=(last.text or "") if last is not None else "",
        last_at=max((e.timestamp for e in tracker.events), default=0.0),
    )


def row(sender_id: str, known: Facts, held: Assignment | None) -> Summary:
    return Summary(
        sender_id=sender_id,
        channel=known.channel,
        customer=known.customer,
        language=known.language,
        status=status_of(known.paused, held),
        assignee=held.assignee if held is not None else None,
        last_text=known.last_text,
        last_at=known.last_at,
        team=held.team if held is not None else None,
    )


def summary(tracker: DialogueStateTracker, held: Assignment | None) -> Summary:
    return row(tracker.sender_id, facts(tracker), held)


def transcript(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """The messages of the conversation as the console shows them: who, what, when, and the
    understanding of each customer message."""
    shown: list[dict[str, Any]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            shown.append(
                {
                    "who": "customer",
                    "text": event.text or "",
                    "at": event.timestamp,
                    "intent": event.intent_name,
                    "confidence": event.intent.get("confidence"),
                }
            )
        elif isinstance(event, BotUttered):
            sent_by = (event.metadata or {}).get("sent_by")
            shown.append(
                {
                    "who": "person" if sent_by else "bot",
                    "sent_by": sent_by,
                    "text": event.text or "",
                    "at": event.timestamp,
                    "buttons": [b.get("title", "") for b in event.data.get("buttons") or []],
                }
            )
    return shown

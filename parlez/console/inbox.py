"""The inbox's rows: every conversation with its channel, customer, status, assignee and
latest message, read through the agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parlez.agent import Agent
from parlez.console.database import Assignment, ConsoleDatabase
from parlez.events import BotUttered, UserUttered
from parlez.tracker import DialogueStateTracker

#: the conversations one inbox page shows
PAGE = 50
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


def status_of(tracker: DialogueStateTracker, held: Assignment | None) -> str:
    if tracker.is_paused():
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


def summary(tracker: DialogueStateTracker, held: Assignment | None) -> Summary:
    last = next(
        (e for e in reversed(tracker.events) if isinstance(e, UserUttered | BotUttered)), None
    )
    return Summary(
        sender_id=tracker.sender_id,
        channel=tracker.latest_input_channel() or "",
        customer=customer_of(tracker),
        language=language_of(tracker),
        status=status_of(tracker, held),
        assignee=held.assignee if held is not None else None,
        last_text=(last.text or "") if last is not None else "",
        last_at=max((e.timestamp for e in tracker.events), default=0.0),
    )


async def inbox_page(
    agent: Agent, database: ConsoleDatabase, status: str | None = None, before: float | None = None
) -> list[Summary]:
    """One page of the inbox, newest activity first; `status` keeps only those."""
    recent = [sender for sender, _ in await agent.tracker_store.recent(PAGE, before)]
    held = await database.assignments(recent)
    trackers = await agent.retrieve_many(recent)
    rows = [summary(trackers[s], held.get(s)) for s in recent if s in trackers]
    return [row for row in rows if status is None or row.status == status]


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

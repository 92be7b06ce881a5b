"""The inbox's rows: every conversation with its channel, customer, status, assignee and
latest message, read through the agent."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from parlez.agent import Agent
from parlez.console.database import Assignment, ConsoleDatabase
from parlez.events import BotUttered, UserUttered
from parlez.tracker import DialogueStateTracker

#: the conversations one inbox page shows
PAGE = 50
#: pages of recent conversations a filtered page looks through at the most
SCANNED_PAGES = 20
#: conversations whose facts the inbox keeps, per agent
CACHED = 5000
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
    )


def summary(tracker: DialogueStateTracker, held: Assignment | None) -> Summary:
    return row(tracker.sender_id, facts(tracker), held)


class FactsCache:
    """The facts of conversations already read, kept while their latest activity is the
    same: a refreshed inbox reads again only the conversations that changed."""

    def __init__(self, size: int = CACHED) -> None:
        self.size = size
        self._facts: OrderedDict[str, tuple[float, Facts]] = OrderedDict()

    def get(self, sender_id: str, latest: float) -> Facts | None:
        found = self._facts.get(sender_id)
        if found is None or found[0] != latest:
            return None
        self._facts.move_to_end(sender_id)
        return found[1]

    def put(self, sender_id: str, latest: float, known: Facts) -> None:
        self._facts[sender_id] = (latest, known)
        self._facts.move_to_end(sender_id)
        while len(self._facts) > self.size:
            self._facts.popitem(last=False)


_caches: weakref.WeakKeyDictionary[Agent, FactsCache] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Filters:
    """What the inbox keeps: conversations of one status, or from one channel."""

    status: str | None = None
    channel: str | None = None

    def keep(self, summary: Summary) -> bool:
        return (self.status is None or summary.status == self.status) and (
            self.channel is None or summary.channel == self.channel
        )


async def inbox_page(
    agent: Agent,
    database: ConsoleDatabase,
    filters: Filters = Filters(),
    before: float | None = None,
) -> list[Summary]:
    """One page of the inbox, newest activity first, of the conversations `filters` keeps:
    pages of recent conversations are read until one is full (or `SCANNED_PAGES` were)."""
    kept: list[Summary] = []
    for _ in range(SCANNED_PAGES):
        recent = await agent.recent(PAGE, before)
        kept += [r for r in await _summaries(agent, database, recent) if filters.keep(r)]
        if len(kept) >= PAGE or len(recent) < PAGE:
            break
        before = recent[-1][1]
    return kept[:PAGE]


async def _summaries(
    agent: Agent, database: ConsoleDatabase, recent: list[tuple[str, float]]
) -> list[Summary]:
    cache = _caches.setdefault(agent, FactsCache())
    held = await database.assignments([sender for sender, _ in recent])
    latest_of = dict(recent)
    stale = [sender for sender, latest in recent if cache.get(sender, latest) is None]
    for sender_id, tracker in (await agent.retrieve_many(stale)).items():
        cache.put(sender_id, latest_of[sender_id], facts(tracker))
    rows = []
    for sender_id, latest in recent:
        cached = cache.get(sender_id, latest)
        if cached is not None:
            rows.append(row(sender_id, cached, held.get(sender_id)))
    return rows


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

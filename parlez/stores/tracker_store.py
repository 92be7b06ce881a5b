"""Tracker stores: a conversation's events, kept between messages.

Stores keep event dicts, never live objects, so a tracker read back is independent of the one
that was saved, exactly as it would be after a round trip through a database.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from parlez import metrics
from parlez.deprecation import moved
from parlez.events import Event, ReminderScheduled, stored_events
from parlez.registry import tracker_stores
from parlez.slots import Slot
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.endpoints import EndpointConfig
    from parlez.stores.event_broker import EventBroker

logger = logging.getLogger(__name__)

#: what is told of saved events: the conversation and the events just saved
SaveListener = Callable[[str, Sequence[Event]], Awaitable[None]]

#: saved events a store without a table of its own remembers for `changes` (a read model
#: that falls further behind is rebuilt)
CHANGES_KEPT = 200_000
#: how often (seconds) a store looks for events left waiting for the broker by another
#: process (one that died while the broker was down)
UNSENT_CHECK_EVERY = 30.0


@dataclass(frozen=True)
class Change:
    """One saved event, at its place in the order every event was saved in. The event is
    Rasa's JSON of it, as stored and as an event broker sends it: a read model takes what
    it needs without the cost of checking every event."""

    position: int
    sender_id: str
    event: dict[str, Any]


class TrackerStore(ABC):
    def __init__(self, slots: Iterable[Slot] = ()) -> None:
        self.slots = list(slots)
        #: where saved events are published for other consumers (analytics, CRM...)
        self.event_broker: EventBroker | None = None
        #: told of every save in this process (the console's live inbox)
        self.listeners: list[SaveListener] = []
        self._changes: deque[Change] = deque(maxlen=CHANGES_KEPT)
        self._position = 0
        #: events the broker did not take, in this process's memory (a SQL store keeps
        #: them in a table, for every process)
        self._unsent: deque[dict[str, Any]] = deque()
        self._unsent_here = False
        self._unsent_checked = 0.0
        self._history = uuid.uuid4().hex

    @classmethod
    def from_endpoint(
        cls, config: EndpointConfig, slots: Iterable[Slot] = (), project: Path | None = None
    ) -> TrackerStore:
        """The store `tracker_store:` in endpoints.yml configures. A store of the user's own
        (named by dotted path) is built as Rasa builds it: `cls(config, slots=...)`."""
        factory: Any = cls
        store: TrackerStore = factory(config, slots=slots)
        return store

    def create(self, sender_id: str) -> DialogueStateTracker:
        return DialogueStateTracker(sender_id, self.slots)

    @abstractmethod
    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The stored conversation, or None for a new sender."""

    @abstractmethod
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events added since the tracker was retrieved (append-only)."""

    @abstractmethod
    async def keys(self) -> list[str]:
        """The sender ids of every stored conversation."""

    @abstractmethod
    async def replace(self, tracker: DialogueStateTracker) -> None:
        """Set a conversation to exactly the tracker's events (`PUT .../tracker`)."""

    #: whether reminders set in its conversations are kept here for every server process
    #: (the SQL store: a table written with the events), else in the setting process's memory
    keeps_reminders: ClassVar[bool] = False
    #: called after a save that kept a reminder (the scheduler of this process looks again)
    on_reminder_kept: Callable[[], None] | None = None

    async def claim_due_reminders(self, now: float) -> list[tuple[str, ReminderScheduled]]:
        """Take the reminders due by `now` (a Unix time) out of the store, each for one
        process alone: `(sender_id, reminder)`. None where the store keeps none."""
        return []

    async def next_reminder_at(self) -> float | None:
        """When the next kept reminder is due (a Unix time); None if none is kept."""
        return None

    async def recent(self, limit: int, before: float | None = None) -> list[tuple[str, float]]:
        """`(sender_id, time of its latest event)` of the conversations with the newest
        activity first, `limit` of them, older than `before` when given (the next page)."""
        latest: list[tuple[str, float]] = []
        for sender_id in await self.keys():
            tracker = await self.retrieve(sender_id)
            if tracker is not None and tracker.events:
                latest.append((sender_id, max(e.timestamp for e in tracker.events)))
        latest.sort(key=lambda item: (-item[1], item[0]))
        return [item for item in latest if before is None or item[1] < before][:limit]

    async def retrieve_many(self, sender_ids: Sequence[str]) -> dict[str, DialogueStateTracker]:
        """The stored conversations among `sender_ids`, by id (one query where the store
        can: the inbox shows a page of them at once)."""
        found = {}
        for sender_id in sender_ids:
            tracker = await self.retrieve(sender_id)
            if tracker is not None:
                found[sender_id] = tracker
        return found

    async def get_or_create(self, sender_id: str) -> DialogueStateTracker:
        return await self.retrieve(sender_id) or self.create(sender_id)

    # ---- what read models follow (the console's inbox index) --------------------------------

    @property
    def history(self) -> str:
        """Names the sequence `changes` counts positions in. A read model built from another
        history (this process's memory before a restart) is rebuilt from the start."""
        return self._history

    @property
    def forgotten(self) -> int:
        """The position of the last change `changes` no longer returns (0: it has them all)."""
        return self._position - len(self._changes)

    async def changes(self, after: int, limit: int) -> list[Change] | None:
        """The events saved after position `after`, oldest first, at most `limit`: how a
        read model keeps up with every save. None when `after` is older than the store
        remembers: the read model is rebuilt from the conversations. Here, the saves of this
        process (a store with a table of its own reads the table, and sees every process's)."""
        if after < self.forgotten:
            return None
        skip = after - self.forgotten
        return list(islice(self._changes, skip, skip + limit))

    def _remember(self, sender_id: str, events: Sequence[Event]) -> None:
        for event in events:
            self._position += 1
            self._changes.append(Change(self._position, sender_id, event.to_dict()))

    async def publish(self, sender_id: str, events: Sequence[Event]) -> None:
        """Hand newly saved events to the listeners and the event broker; a failure of
        either never loses them here."""
        if not events:
            return
        self._remember(sender_id, events)
        for listener in self.listeners:
            try:
                await listener(sender_id, events)
            except Exception:
                logger.exception("a listener failed on the saved events of '%s'", sender_id)
        if self.event_broker is None:
            return
        await self._broadcast(sender_id, events)

    async def announce(self, payload: dict[str, Any]) -> None:
        """Publish what is not a conversation's event but concerns one (a conversion the
        business's page reported, with its `sender_id`), with the events' guarantee: it
        waits while the broker is down. Nothing without a broker."""
        if self.event_broker is not None:
            await self._broadcast_payloads([payload])

    async def _broadcast(self, sender_id: str, events: Sequence[Event]) -> None:
        await self._broadcast_payloads(
            [{"sender_id": sender_id, **event.to_dict()} for event in events]
        )

    async def _broadcast_payloads(self, payloads: list[dict[str, Any]]) -> None:
        """Publish, after what waits from earlier; what the broker does not take (it is
        down) waits in its turn: the broker receives every event, at least once."""
        assert self.event_broker is not None
        if not await self._send_waiting():
            await self.keep_unsent(payloads)
            return
        for sent, payload in enumerate(payloads):
            try:
                await self.event_broker.publish(payload)
            except Exception as error:
                metrics.BROKER_ERRORS.inc(len(payloads) - sent)
                logger.warning(
                    "the event broker could not take events of '%s' (%s): they wait",
                    payload.get("sender_id"),
                    error,
                )
                await self.keep_unsent(payloads[sent:])
                return

    async def _send_waiting(self) -> bool:
        """Publish what waits for the broker; False if some still waits (it is still down)."""
        assert self.event_broker is not None
        now = time.monotonic()
        if not self._unsent_here and now - self._unsent_checked < UNSENT_CHECK_EVERY:
            return True
        self._unsent_checked = now
        try:
            sent = await self.send_unsent(self.event_broker.publish)
        except Exception as error:
            # The conversation is saved and its events wait where they are (the database
            # being away, say): the message must not fail for it.
            logger.warning("the events waiting for the event broker wait on: %s", error)
            sent = False
        if not sent:
            metrics.BROKER_ERRORS.inc()
            logger.warning("the event broker does not take events yet: they wait")
        self._unsent_here = not sent
        return sent

    async def keep_unsent(self, payloads: list[dict[str, Any]]) -> None:
        """Keep events the broker did not take, to send before the next ones."""
        self._unsent.extend(payloads)
        self._unsent_here = True

    async def send_unsent(self, publish: Callable[[dict[str, Any]], Awaitable[None]]) -> bool:
        """Publish what waits, oldest first; True once nothing waits."""
        while self._unsent:
            try:
                await publish(self._unsent[0])
            except Exception:
                return False
            self._unsent.popleft()
        return True

    async def ping(self) -> None:
        """Raise when the store cannot be reached now (the server's readiness): one try,
        no retries, so that a load balancer hears at once."""
        return None

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        if self.event_broker is not None:
            await self.event_broker.close()


@tracker_stores.register("in_memory", "inmemory", "memory")
class InMemoryTrackerStore(TrackerStore):
    def __init__(self, slots: Iterable[Slot] = ()) -> None:
        super().__init__(slots)
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def from_endpoint(
        cls, config: EndpointConfig, slots: Iterable[Slot] = (), project: Path | None = None
    ) -> InMemoryTrackerStore:
        return cls(slots)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        stored = self._events.get(sender_id)
        if stored is None:
            return None
        tracker = DialogueStateTracker.from_events(
            sender_id, stored_events(stored, sender_id), self.slots
        )
        tracker.persisted_events = len(tracker.events)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        async with self._lock:
            stored = self._events.setdefault(tracker.sender_id, [])
            # Append-only: events already stored are never rewritten.
            start = tracker.persisted_events
            new: list[Event] = tracker.events[len(stored) if start is None else start :]
            stored.extend(e.to_dict() for e in new)
            tracker.persisted_events = len(tracker.events)
        await self.publish(tracker.sender_id, new)

    async def replace(self, tracker: DialogueStateTracker) -> None:
        async with self._lock:
            self._events[tracker.sender_id] = [e.to_dict() for e in tracker.events]
        # A read model reads the conversation again when any of its events shows up.
        self._remember(tracker.sender_id, tracker.events)

    async def keys(self) -> list[str]:
        return list(self._events)


def __getattr__(name: str) -> Any:
    return moved(__name__, name)  # the names that moved: parlez/deprecation.py

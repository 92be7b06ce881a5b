"""Tracker stores: a conversation's events, kept between messages.

Stores keep event dicts, never live objects, so a tracker read back is independent of the one
that was saved, exactly as it would be after a round trip through a database.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from parlez.events import Event, events_from_dicts
from parlez.slots import Slot
from parlez.tracker import DialogueStateTracker


class TrackerStore(ABC):
    def __init__(self, slots: Iterable[Slot] = ()) -> None:
        self.slots = list(slots)

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

    async def get_or_create(self, sender_id: str) -> DialogueStateTracker:
        return await self.retrieve(sender_id) or self.create(sender_id)


class InMemoryTrackerStore(TrackerStore):
    def __init__(self, slots: Iterable[Slot] = ()) -> None:
        super().__init__(slots)
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._lock = asyncio.Lock()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        stored = self._events.get(sender_id)
        if stored is None:
            return None
        return DialogueStateTracker.from_events(sender_id, events_from_dicts(stored), self.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        async with self._lock:
            stored = self._events.setdefault(tracker.sender_id, [])
            # Append-only: events already stored are never rewritten.
            new: list[Event] = tracker.events[len(stored) :]
            stored.extend(e.to_dict() for e in new)

    async def keys(self) -> list[str]:
        return list(self._events)

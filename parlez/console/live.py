"""The inbox's live feed: each save of a conversation in this process is told to every open
inbox, as server-sent events, so a new message or a handoff shows without a reload.

Several server processes each tell their own inboxes; a message saved by another process
shows at the next refresh (a shared feed comes with the scale-out work).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence

from parlez.events import Event

#: changes an inbox that reads slowly may fall behind by before it only gets the latest
BACKLOG = 100
#: seconds between the comments that keep an idle connection open through proxies
HEARTBEAT = 15.0


#: put in every queue when the server stops: the streams end, so shutdown need not wait
_CLOSED = "\x00closed"


class LiveFeed:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str]] = set()
        self._closed = False

    async def saved(self, sender_id: str, events: Sequence[Event]) -> None:
        """A conversation was saved: every open inbox hears of it."""
        self._put(sender_id)

    def close(self) -> None:
        """End every stream (the server is stopping); the browsers reconnect elsewhere."""
        self._closed = True
        self._put(_CLOSED)

    def _put(self, item: str) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()  # a slow reader keeps the newest changes
            queue.put_nowait(item)

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events for one open inbox: `change` with the conversation's id."""
        queue: asyncio.Queue[str] = asyncio.Queue(BACKLOG)
        self._queues.add(queue)
        try:
            yield ": connected\n\n"
            while not self._closed:
                try:
                    sender_id = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if sender_id == _CLOSED:
                    return
                yield f"event: change\ndata: {json.dumps(sender_id)}\n\n"
        finally:
            self._queues.discard(queue)

    @property
    def listening(self) -> int:
        return len(self._queues)

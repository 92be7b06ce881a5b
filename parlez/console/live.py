"""The inbox's live feed: each save of a conversation in this process is told to every open
console page, as server-sent events, so a new message shows without a reload, and a
customer handed over to a person (`handoff`) is announced to every agent online.

Several server processes each tell their own inboxes; a message saved by another process
shows at the next refresh (a shared feed comes with the scale-out work).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence

from parlez.events import ConversationPaused, Event, UserUttered

#: changes an inbox that reads slowly may fall behind by before it only gets the latest
BACKLOG = 100
#: seconds between the comments that keep an idle connection open through proxies
HEARTBEAT = 15.0


#: put in every queue when the server stops: the streams end, so shutdown need not wait
_CLOSED = ("closed", "")


def handed_over(events: Sequence[Event]) -> bool:
    """The bot paused the conversation while answering the customer (`action_handoff`): a
    customer now waits for a person. A person taking it over from the console pauses it
    too, but saves no customer message with the pause."""
    return any(isinstance(e, ConversationPaused) for e in events) and any(
        isinstance(e, UserUttered) for e in events
    )


class LiveFeed:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[tuple[str, str]]] = set()
        self._closed = False

    async def saved(self, sender_id: str, events: Sequence[Event]) -> None:
        """A conversation was saved: every open page hears of it, and of a handoff."""
        self._put(("change", sender_id))
        if handed_over(events):
            self._put(("handoff", sender_id))

    def presence(self, sender_id: str) -> None:
        """Someone opened, left, or started or stopped typing in a conversation."""
        self._put(("presence", sender_id))

    def close(self) -> None:
        """End every stream (the server is stopping); the browsers reconnect elsewhere."""
        self._closed = True
        self._put(_CLOSED)

    def _put(self, item: tuple[str, str]) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()  # a slow reader keeps the newest changes
            queue.put_nowait(item)

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events for one open page: `change` or `handoff`, with the
        conversation's id."""
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(BACKLOG)
        self._queues.add(queue)
        try:
            yield ": connected\n\n"
            while not self._closed:
                try:
                    kind, sender_id = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if (kind, sender_id) == _CLOSED:
                    return
                yield f"event: {kind}\ndata: {json.dumps(sender_id)}\n\n"
        finally:
            self._queues.discard(queue)

    @property
    def listening(self) -> int:
        return len(self._queues)

"""Who is looking at a conversation right now, and who is writing in it: so that two
colleagues do not answer the same customer at once.

Each open conversation page says "I am here" every few seconds, and "I am typing" while
its reply box changes; a page that stops saying so is gone after a while (a closed tab
sends nothing). Kept in this process's memory, as the live feed is: several server
processes each know their own visitors until the feed is shared through Redis.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

#: seconds a page counts as open after it last said so (it says so every 10 s)
VIEWING_SECONDS = 30.0
#: seconds a person counts as typing after their last key (pages say so every 3 s)
TYPING_SECONDS = 6.0


class Doing(StrEnum):
    VIEWING = "viewing"
    TYPING = "typing"
    LEFT = "left"


@dataclass(frozen=True)
class Visitor:
    email: str
    name: str
    typing: bool


@dataclass
class _Seen:
    name: str
    here_until: float
    typing_until: float


#: seconds between two "a person is typing" told to the customer (the widget shows it 8 s)
RELAY_SECONDS = 4.0


class Presence:
    def __init__(self) -> None:
        self._seen: dict[str, dict[str, _Seen]] = {}
        self._relayed: dict[str, float] = {}

    def _now(self) -> float:
        return time.monotonic()

    def mark(self, sender_id: str, email: str, name: str, doing: Doing) -> bool:
        """Note what a person does in a conversation; True when what others see of it
        changes (they arrive, start or stop typing, leave)."""
        before = self.visitors(sender_id)
        now = self._now()
        here = self._seen.setdefault(sender_id, {})
        if doing is Doing.LEFT:
            here.pop(email, None)
        else:
            seen = here.get(email) or _Seen(name, 0.0, 0.0)
            seen.here_until = now + VIEWING_SECONDS
            seen.typing_until = now + TYPING_SECONDS if doing is Doing.TYPING else 0.0
            here[email] = seen
        return self.visitors(sender_id) != before

    def typing(self, sender_id: str) -> bool:
        """Someone is writing to the customer of this conversation."""
        return any(visitor.typing for visitor in self.visitors(sender_id))

    def relay_due(self, sender_id: str, typing: bool) -> bool:
        """Whether to tell the customer now: when typing starts or stops, and again while
        it goes on (their channel shows it only for a few seconds)."""
        now = self._now()
        last = self._relayed.get(sender_id)
        if not typing:
            return self._relayed.pop(sender_id, None) is not None
        if last is not None and now - last < RELAY_SECONDS:
            return False
        self._relayed[sender_id] = now
        return True

    def visitors(self, sender_id: str, besides: str | None = None) -> list[Visitor]:
        """Who has the conversation open now (but `besides`), by address."""
        now = self._now()
        here = self._seen.get(sender_id, {})
        for email in [e for e, seen in here.items() if seen.here_until < now]:
            del here[email]
        if not here:
            self._seen.pop(sender_id, None)
        return [
            Visitor(email, seen.name, seen.typing_until > now)
            for email, seen in sorted(here.items())
            if email != besides
        ]

"""The questions customers ask most, with the assistant's answers: material for the
business's social posts and FAQ pages, exported as JSON and CSV from the reports.

A question is a customer's message that asks something: it ends with a question mark, or
the knowledge base answered it, or its intent is a retrieval intent (`faq/...`) or one that
starts with `ask`. Questions are grouped by intent and, for the knowledge base's answers, by
the entry that answered (its title); each group keeps its most common wordings and the
answer the assistant gave most often. Greetings, thanks and the like are not questions.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from parlez.console.index import ConversationIndex
from parlez.console.models import conversation_index
from parlez.events import BotUttered, UserUttered

#: conversations read at most, the newest first
MAX_CONVERSATIONS = 5000
#: wordings kept for each question
EXAMPLES = 3


@dataclass
class CommonQuestion:
    intent: str
    #: the knowledge-base entry that answered, by its title ("" when not the knowledge base)
    entry: str = ""
    asked: int = 0
    wordings: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    url: str = ""

    @property
    def topic(self) -> str:
        return self.entry or self.intent.replace("_", " ")

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "intent": self.intent,
            "entry": self.entry,
            "asked": self.asked,
            "examples": [text for text, _ in self.wordings.most_common(EXAMPLES)],
            "answer": self.answers.most_common(1)[0][0] if self.answers else "",
            "url": self.url,
        }


def _is_question(text: str, intent: str, sources: list[Any]) -> bool:
    return (
        text.rstrip().endswith(("?", "\uff1f"))  # and the full-width one
        or text.lstrip().startswith("¿")
        or bool(sources)
        or "/" in intent
        or intent.startswith("ask")
    )


def _sources(event: BotUttered) -> list[Any]:
    custom = event.data.get("custom") if isinstance(event.data, dict) else None
    found = custom.get("sources") if isinstance(custom, dict) else None
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


async def common_questions(
    index: ConversationIndex, days: int = 30, limit: int = 50, now: float | None = None
) -> list[CommonQuestion]:
    """The `limit` questions asked most in the last `days`, the most asked first."""
    await index.catch_up()
    since = (time.time() if now is None else now) - days * 86400
    async with index.engine.connect() as connection:
        senders = [
            r.sender_id
            for r in await connection.execute(
                select(conversation_index.c.sender_id)
                .where(conversation_index.c.last_at >= since)
                .order_by(conversation_index.c.last_at.desc())
                .limit(MAX_CONVERSATIONS)
            )
        ]
    groups: dict[tuple[str, str], CommonQuestion] = {}
    for start in range(0, len(senders), 200):
        trackers = await index.store.retrieve_many(senders[start : start + 200])
        for tracker in trackers.values():
            asked: UserUttered | None = None
            for event in tracker.events:
                if isinstance(event, UserUttered):
                    asked = event if event.timestamp >= since else None
                elif isinstance(event, BotUttered) and asked is not None and event.text:
                    _count(groups, asked, event)
                    asked = None  # the first answer is the answer
    found = sorted(groups.values(), key=lambda q: (-q.asked, q.topic))
    return found[:limit]


def _count(
    groups: dict[tuple[str, str], CommonQuestion], asked: UserUttered, answer: BotUttered
) -> None:
    text = (asked.text or "").strip()
    intent = str((asked.intent or {}).get("name") or "")
    sources = _sources(answer)
    if not text or not intent or text.startswith("/") or not _is_question(text, intent, sources):
        return
    entry = str(sources[0].get("title") or "") if sources else ""
    group = groups.setdefault((intent, entry), CommonQuestion(intent, entry))
    group.asked += 1
    group.wordings[text[:500]] += 1
    group.answers[(answer.text or "")[:2000]] += 1
    if sources and not group.url:
        group.url = str(sources[0].get("url") or "")

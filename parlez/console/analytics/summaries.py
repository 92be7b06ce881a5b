"""Conversation summaries for the business's own analytics, published to the event broker.

A conversation's events reach the broker as they happen; what the reports make of them (how
many messages, whether a person took over, the outcome, the rating) is published as one
`conversation_summary` per session once it has been quiet for `QUIET_SECONDS`, and again if
it went on afterwards. A repeated job (one process runs it, on every replica's job runner)
marks each summary as published in the same database before handing it to the broker, which
keeps what it cannot take until it is back: at most once per `last_at`, so that none is
counted twice downstream (a process killed between the two loses that run's summaries; the
conversations' own events, sent at least once, hold the same facts).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from parlez.console.index import ConversationIndex
from parlez.console.models import analytics_conversations, analytics_counts, published_summaries
from parlez.jobs.runner import JobRunner, Task

#: a session is summed up once it has had no message for this long
QUIET_SECONDS = 30 * 60.0
#: sessions quiet for longer than this when first seen are left out (a first start does
#: not publish years of history)
LOOKBACK_SECONDS = 7 * 86400.0
#: how often the job looks
SCAN_SECONDS = 300.0
#: summaries published a run at most (the next run takes the rest)
BATCH = 500
PUBLISH = "analytics.publish_summaries"
#: what of the reports' counts a summary lists
KINDS = ("outcome", "label", "intent")

#: the figures of `console_analytics_conversations` a summary carries, under their names
FIGURES = (
    "session",
    "channel",
    "language",
    "model_id",
    "started_at",
    "last_at",
    "incoming",
    "outgoing",
    "human_messages",
    "fallbacks",
    "knowledge_questions",
    "knowledge_misses",
    "handed_over",
    "human",
    "first_response_seconds",
    "resolution_seconds",
    "rating",
    "resolved",
    "converted",
)

Announce = Callable[[dict[str, Any]], Awaitable[None]]


class ConversationSummaries:
    def __init__(
        self,
        index: ConversationIndex,
        announce: Announce,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.announce = announce
        self.clock = clock

    def schedule_on(self, jobs: JobRunner) -> None:
        jobs.add(Task(PUBLISH, self._job, retries=0), every=SCAN_SECONDS)

    async def _job(self, arguments: dict[str, Any]) -> None:
        await self.publish_due()

    async def publish_due(self) -> int:
        """Publish the summaries due now; how many."""
        await self.index.catch_up_reports(None)
        now = self.clock()
        row, done = analytics_conversations.c, published_summaries.c
        async with self.index.engine.begin() as connection:
            due = list(
                await connection.execute(
                    select(analytics_conversations)
                    .outerjoin(
                        published_summaries,
                        and_(done.sender_id == row.sender_id, done.session == row.session),
                    )
                    .where(
                        row.last_at <= now - QUIET_SECONDS,
                        row.last_at > now - LOOKBACK_SECONDS,
                        or_(done.last_at.is_(None), done.last_at < row.last_at),
                    )
                    .order_by(row.last_at)
                    .limit(BATCH)
                )
            )
            if not due:
                return 0
            named = await _named(connection, due)
            summaries = [_summary(found, named[(found.sender_id, found.session)]) for found in due]
            await _mark(connection, summaries)
        # Marked first: a summary handed over twice would be counted twice downstream.
        for summary in summaries:
            await self.announce(summary)
        return len(summaries)


async def _named(
    connection: AsyncConnection, due: list[Any]
) -> defaultdict[tuple[str, int], dict[str, list[str]]]:
    """The outcomes, labels and intents of the due sessions, in one query."""
    counts = analytics_counts.c
    named: defaultdict[tuple[str, int], dict[str, list[str]]] = defaultdict(
        lambda: {kind: [] for kind in KINDS}
    )
    for sender_id, session, kind, name in await connection.execute(
        select(counts.sender_id, counts.session, counts.kind, counts.name)
        .where(counts.sender_id.in_({found.sender_id for found in due}), counts.kind.in_(KINDS))
        .distinct()
    ):
        named[(sender_id, session)][kind].append(name)
    return named


def _summary(found: Any, named: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "event": "conversation_summary",
        "sender_id": found.sender_id,
        **{name: getattr(found, name) for name in FIGURES},
        "outcomes": sorted(named["outcome"]),
        "labels": sorted(named["label"]),
        "intents": sorted(named["intent"]),
        "timestamp": found.last_at,
    }


async def _mark(connection: AsyncConnection, summaries: list[dict[str, Any]]) -> None:
    """The summaries as published (one job runs at a time: no other writer to race)."""
    done = published_summaries.c
    latest = {(s["sender_id"], s["session"]): s["last_at"] for s in summaries}
    await connection.execute(
        delete(published_summaries).where(tuple_(done.sender_id, done.session).in_(list(latest)))
    )
    await connection.execute(
        insert(published_summaries),
        [
            {"sender_id": sender_id, "session": session, "last_at": last_at}
            for (sender_id, session), last_at in latest.items()
        ],
    )

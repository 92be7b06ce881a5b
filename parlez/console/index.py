"""The inbox's index: what each conversation shows and is filtered on, and its messages for
full-text search, kept up with the tracker store's changes.

It is a read model. The conversations are the events in the tracker store; the index reads
them (`TrackerStore.changes`, in the order they were saved, by every process) and is
rebuilt from them whenever it cannot follow. Each batch moves the index's position with a
compare-and-set in the same transaction as its rows, so two processes catching up at once
never index a batch twice.

The reports' rows follow the same changes from a position of their own, and lag behind
the inbox: an open inbox catches up after every message, and rewriting a conversation's
report rows after every message cost 12-20 % of answering one (four statements for one
message), where a batch of changes shares them. They catch up when a report (or anything
that reads them) asks, and with the inbox once `REPORTS_LAG` changes are waiting.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import and_, case, delete, insert, or_, select, text, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from parlez.console.analytics.config import AnalyticsConfig
from parlez.console.analytics.facts import AnalyticsRows
from parlez.console.contacts import Seen, link, seen_in
from parlez.console.database import ConsoleDatabase
from parlez.console.inbox import Facts, Status, Summary, facts
from parlez.console.models import (
    SEARCH_TABLE,
    analytics_conversations,
    analytics_counts,
    assignments,
    conversation_index,
    index_position,
    knowledge_misses,
    review_turns,
    reviewed_turns,
)
from parlez.console.models import labels as labels_table
from parlez.console.models import teams as teams_table
from parlez.console.review import ReviewRow, review_rows
from parlez.stores.tracker_store import Change, TrackerStore

logger = logging.getLogger(__name__)

#: saved events read at a time
BATCH = 5000
#: batches one inbox request reads before it shows what is indexed (the rest follows)
REQUEST_BATCHES = 4
#: conversations read at a time when the index is rebuilt from every conversation
REBUILD_PAGE = 200
#: the conversations one inbox page shows
PAGE = 50
#: the saved events (about 50 messages) the reports may lag behind the inbox before the
#: inbox's catch-up brings them up too
REPORTS_LAG = 200
#: the rows of `index_position`: where the inbox is, and where the reports are
INBOX, REPORTS = 1, 2
#: words of a search that count
SEARCH_WORDS = 8


@dataclass(frozen=True)
class Filters:
    """What the inbox keeps. Dates are days (UTC) of the latest activity, both included."""

    status: str | None = None
    channel: str | None = None
    language: str | None = None
    assignee: str | None = None
    team: str | None = None
    label: str | None = None
    #: the name or address the inbox shows for the customer, exactly
    customer: str | None = None
    since: str | None = None
    until: str | None = None
    search: str | None = None

    @property
    def active(self) -> bool:
        return any(vars(self).values())


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this conversation, in newest-first order."""

    last_at: float
    sender_id: str

    def __str__(self) -> str:
        return f"{self.last_at!r}:{self.sender_id}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """The cursor of a `?after=` link; None for a missing or broken one (the first page)."""
        if not value or ":" not in value:
            return None
        at, sender_id = value.split(":", 1)
        try:
            return cls(float(at), sender_id)
        except ValueError:
            return None


@dataclass(frozen=True)
class Page:
    rows: list[Summary]
    #: the next page's start, or None on the last page
    after: Cursor | None
    #: False while older conversations are still being read into the index
    complete: bool


def day_start(day: str | None) -> float | None:
    """The first second (UTC) of `YYYY-MM-DD`; None for an empty or malformed day."""
    if not day:
        return None
    try:
        return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def words_of(search: str) -> list[str]:
    return re.findall(r"\w+", search.lower())[:SEARCH_WORDS]


def fts5_query(words: Sequence[str]) -> str:
    """Every word, the last one as a prefix (the search box is read as it is typed). Words
    are quoted: nothing a person types is read as FTS5 syntax."""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(words: Sequence[str]) -> str:
    # `\w+` words hold no tsquery operator.
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def labelled(label: str) -> Any:
    """The conversations with `label`: set by hand, or given by a rule of analytics.yml."""
    return union(
        select(labels_table.c.sender_id).where(labels_table.c.label == label),
        select(analytics_counts.c.sender_id).where(
            analytics_counts.c.kind == "label", analytics_counts.c.name == label
        ),
    )


def status_column() -> ColumnElement[str]:
    """`inbox.status_of`, as SQL: the status is filtered and shown from the same rule."""
    held = and_(assignments.c.assignee.is_not(None), assignments.c.assignee != "")
    return case(
        (conversation_index.c.paused & held, Status.HUMAN),
        (conversation_index.c.paused, Status.OPEN),
        (assignments.c.status == Status.RESOLVED, Status.RESOLVED),
        else_=Status.BOT,
    )


def _index_row(sender_id: str, known: Facts) -> dict[str, Any]:
    return {
        "sender_id": sender_id,
        "channel": known.channel[:64],
        "customer": known.customer[:255],
        "language": known.language[:16],
        "paused": known.paused,
        "last_text": known.last_text,
        "last_at": known.last_at,
        "rating": known.rating,
    }


def _messages(changes: Iterable[Change]) -> list[dict[str, str]]:
    """What search finds: the text of each customer's and bot's (or person's) message."""
    return [
        {"sender_id": c.sender_id, "body": c.event["text"]}
        for c in changes
        if c.event.get("event") in ("user", "bot")
        and isinstance(c.event.get("text"), str)
        and c.event["text"]
    ]


#: the most unanswered questions one page groups
MAX_MISSES = 2000


@dataclass(frozen=True)
class Miss:
    """A question the knowledge base could not answer, and where it was asked."""

    sender_id: str
    at: float
    question: str
    confidence: float
    #: close entries were offered instead of an answer
    suggested: bool


def _misses(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """The questions the knowledge base could not answer (`knowledge_miss` events)."""
    found = []
    for change in changes:
        event = change.event
        if event.get("event") != "knowledge_miss" or not isinstance(event.get("question"), str):
            continue
        found.append(
            {
                "sender_id": change.sender_id,
                "at": float(event.get("timestamp") or 0.0),
                "question": event["question"][:2000],
                "confidence": float(event.get("confidence") or 0.0),
                "suggested": bool(event.get("suggested")),
            }
        )
    return found


class _Moved(Exception):
    pass


#: the tables read from the conversations, emptied when the index is rebuilt
ANALYTICS_TABLES = (analytics_conversations, analytics_counts)


class ConversationIndex:
    def __init__(
        self,
        store: TrackerStore,
        database: ConsoleDatabase,
        analytics: AnalyticsConfig | None = None,
    ) -> None:
        self.store = store
        self.database = database
        self.analytics = analytics or AnalyticsConfig()
        self._lock = asyncio.Lock()
        #: where the inbox and the reports were when this process last looked
        self._positions: dict[int, int] = {}
        #: the conversations this process read lately: sender -> (the changes' position
        #: they hold everything up to, the tracker or None when it was gone)
        self._seen: dict[str, tuple[int, Any]] = {}

    @property
    def history(self) -> str:
        """The store's history and what the reports count: a new `analytics.yml` (another
        outcome, another time zone) has every conversation counted again."""
        return f"{self.store.history}#{self.analytics.digest}"

    @property
    def engine(self) -> Any:
        return self.database.engine

    # ---- keeping up -----------------------------------------------------------------------

    async def catch_up(self, batches: int | None = REQUEST_BATCHES) -> bool:
        """Index the changes saved since the last catch-up, at most `batches` of them (all
        when None); the reports too when they lag `REPORTS_LAG` changes behind. True when
        the inbox is up to date."""
        done = await self._follow(INBOX, batches)
        if done and await self._reports_lag() >= REPORTS_LAG:
            await self._follow(REPORTS, batches)
        return done

    async def catch_up_reports(self, batches: int | None = REQUEST_BATCHES) -> bool:
        """Bring the inbox and the reports' rows up to date (at most `batches` each). True
        when both are."""
        return await self._follow(INBOX, batches) and await self._follow(REPORTS, batches)

    async def keep_up(self) -> None:
        """Catch up in chunks until up to date (at the server's start): a request waits
        for one chunk at most."""
        try:
            while not await self.catch_up_reports():
                await asyncio.sleep(0)
        except Exception:
            logger.exception("the inbox index could not catch up; inbox requests will retry")

    async def _follow(self, which: int, batches: int | None) -> bool:
        await self.database.upgrade()
        async with self._lock:
            history, position = await self._position(which)
            done = 0
            while batches is None or done < batches:
                if history != self.history:
                    history, position = await self._rebuild(which)
                    continue
                changes = await self.store.changes(position, BATCH)
                if changes is None:  # the store no longer remembers that far back
                    history, position = await self._rebuild(which)
                    continue
                if not changes:
                    return True
                if not await self._index(which, history, position, changes):
                    history, position = await self._position(which)  # another process moved it
                    continue
                position = changes[-1].position
                self._positions[which] = position
                done += 1
            return False

    async def _reports_lag(self) -> int:
        """How many changes the reports are behind the inbox, as this process last saw them
        (another process may have caught them up since: the next catch-up finds less)."""
        if REPORTS not in self._positions:
            await self._position(REPORTS)
        return self._positions.get(INBOX, 0) - self._positions[REPORTS]

    async def _position(self, which: int = INBOX) -> tuple[str, int]:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(index_position).where(index_position.c.id == which))
            ).first()
        found = (row.history, int(row.position)) if row is not None else ("", 0)
        self._positions[which] = found[1]
        return found

    async def _index(
        self, which: int, history: str, position: int, changes: Sequence[Change]
    ) -> bool:
        senders = list(dict.fromkeys(c.sender_id for c in changes))
        trackers = await self._read(changes)
        write: Callable[[AsyncConnection], Awaitable[None]]
        if which == INBOX:
            rows = [_index_row(s, facts(t)) for s, t in trackers.items()]
            turns = [turn for s, t in trackers.items() for turn in review_rows(s, t)]
            write = partial(self._write, senders=senders, rows=rows, changes=changes, turns=turns)
        else:
            counted = self._counted(trackers.values())
            seen = [seen_in(t) for t in trackers.values()]
            write = partial(self._write_counts, senders=senders, counted=counted, seen=seen)
        try:
            async with self.engine.begin() as connection:
                moved = await connection.execute(
                    update(index_position)
                    .where(
                        index_position.c.id == which,
                        index_position.c.history == history,
                        index_position.c.position == position,
                    )
                    .values(position=changes[-1].position)
                )
                if moved.rowcount != 1:
                    raise _Moved
                await write(connection)
        except _Moved:  # rolled back: another process indexed this batch
            return False
        if which == REPORTS:  # read before these changes: of no use to the next batches
            end = changes[-1].position
            self._seen = {s: seen for s, seen in self._seen.items() if seen[0] > end}
        return True

    async def _read(self, changes: Sequence[Change]) -> dict[str, Any]:
        """The conversations `changes` touched, as they are now; those this process read
        after their last change are not read again: the reports follow the changes that the
        inbox has just read, one message at a time."""
        last = {c.sender_id: c.position for c in changes}
        known = {
            sender: self._seen[sender][1]
            for sender, at in last.items()
            if sender in self._seen and self._seen[sender][0] >= at
        }
        wanted = [sender for sender in last if sender not in known]
        found = await self.store.retrieve_many(wanted) if wanted else {}
        for sender in wanted:
            # read after `changes` were: it holds at least everything up to their end
            self._seen.pop(sender, None)
            self._seen[sender] = (changes[-1].position, found.get(sender))
        while len(self._seen) > REPORTS_LAG:
            del self._seen[next(iter(self._seen))]
        return {
            sender: tracker
            for sender in last
            if (tracker := found[sender] if sender in found else known.get(sender)) is not None
        }

    async def _write(
        self,
        connection: AsyncConnection,
        senders: Sequence[str],
        rows: list[dict[str, Any]],
        changes: Sequence[Change],
        turns: list[dict[str, Any]],
    ) -> None:
        # Delete and insert: the same SQL on SQLite and PostgreSQL; a conversation gone from
        # the store (`senders` without a row) leaves the inbox.
        for start in range(0, len(senders), 500):
            chunk = list(senders[start : start + 500])
            for table in (conversation_index, review_turns):
                await connection.execute(delete(table).where(table.c.sender_id.in_(chunk)))
        if rows:
            await connection.execute(insert(conversation_index), rows)
        messages = _messages(changes)
        if messages:
            await connection.execute(
                text(f"INSERT INTO {SEARCH_TABLE} (sender_id, body) VALUES (:sender_id, :body)"),
                messages,
            )
        misses = _misses(changes)
        if misses:
            await connection.execute(insert(knowledge_misses), misses)
        if turns:
            await connection.execute(insert(review_turns), turns)

    async def _write_counts(
        self,
        connection: AsyncConnection,
        senders: Sequence[str],
        counted: AnalyticsRows,
        seen: Sequence[Seen],
    ) -> None:
        """The reports' rows of the conversations, and their contacts."""
        for start in range(0, len(senders), 500):
            chunk = list(senders[start : start + 500])
            for table in ANALYTICS_TABLES:
                await connection.execute(delete(table).where(table.c.sender_id.in_(chunk)))
        for table, found in (
            (analytics_conversations, counted.conversations),
            (analytics_counts, counted.counts),
        ):
            if found:
                await connection.execute(insert(table), found)
        await link(connection, seen)

    def _counted(self, trackers: Iterable[Any]) -> AnalyticsRows:
        counted = AnalyticsRows()
        for tracker in trackers:
            counted.add(tracker, self.analytics)
        return counted

    async def _rebuild(self, which: int = INBOX) -> tuple[str, int]:
        """Index every conversation again, from the start of the store's history: the inbox
        and the reports together. `which`'s position after it."""
        history = self.history
        start = self.store.forgotten
        self._seen.clear()
        logger.info("the inbox index is rebuilt from every conversation")
        try:
            async with self.engine.begin() as connection:
                await connection.execute(delete(index_position))
                await connection.execute(delete(conversation_index))
                await connection.execute(text(f"DELETE FROM {SEARCH_TABLE}"))
                await connection.execute(delete(knowledge_misses))
                await connection.execute(delete(review_turns))
                for table in ANALYTICS_TABLES:
                    await connection.execute(delete(table))
                await connection.execute(
                    insert(index_position),
                    [
                        {"id": row, "history": history, "position": start}
                        for row in (INBOX, REPORTS)
                    ],
                )
        except IntegrityError:  # another process started the same rebuild
            return await self._position(which)
        if start:
            # What the store has forgotten is read from the conversations themselves; the
            # changes it remembers follow (indexing one twice changes nothing shown).
            keys = await self.store.keys()
            for first in range(0, len(keys), REBUILD_PAGE):
                trackers = await self.store.retrieve_many(keys[first : first + REBUILD_PAGE])
                rows = [_index_row(s, facts(t)) for s, t in trackers.items()]
                turns = [turn for s, t in trackers.items() for turn in review_rows(s, t)]
                changes = [Change(0, s, e.to_dict()) for s, t in trackers.items() for e in t.events]
                counted = self._counted(trackers.values())
                async with self.engine.begin() as connection:
                    await self._write(connection, list(trackers), rows, changes, turns)
                    seen = [seen_in(t) for t in trackers.values()]
                    await self._write_counts(connection, list(trackers), counted, seen)
        self._positions.update({INBOX: start, REPORTS: start})
        return history, start

    # ---- reading ---------------------------------------------------------------------------

    async def page(self, filters: Filters = Filters(), after: Cursor | None = None) -> Page:
        """One page of the inbox, newest activity first, after `after`: one query, whatever
        the filters."""
        # A label a rule gives is read from the reports' rows.
        complete = await (self.catch_up_reports() if filters.label else self.catch_up())
        status = status_column().label("status")
        query = select(
            conversation_index,
            status,
            assignments.c.assignee.label("assignee"),
            assignments.c.team.label("team"),
        ).select_from(
            conversation_index.outerjoin(
                assignments, assignments.c.sender_id == conversation_index.c.sender_id
            )
        )
        for condition in self._conditions(filters):
            query = query.where(condition)
        if after is not None:
            query = query.where(
                or_(
                    conversation_index.c.last_at < after.last_at,
                    and_(
                        conversation_index.c.last_at == after.last_at,
                        conversation_index.c.sender_id < after.sender_id,
                    ),
                )
            )
        query = query.order_by(
            conversation_index.c.last_at.desc(), conversation_index.c.sender_id.desc()
        ).limit(PAGE + 1)
        async with self.engine.connect() as connection:
            found = (await connection.execute(query)).all()
        shown = [f.name for f in fields(Summary)]
        rows = [Summary(**{name: getattr(r, name) for name in shown}) for r in found[:PAGE]]
        more = len(found) > PAGE
        return Page(rows, Cursor(rows[-1].last_at, rows[-1].sender_id) if more else None, complete)

    def _conditions(self, filters: Filters) -> list[Any]:
        index = conversation_index.c
        conditions: list[Any] = []
        if filters.status:
            conditions.append(status_column() == filters.status)
        if filters.channel:
            conditions.append(index.channel == filters.channel)
        if filters.language:
            conditions.append(index.language == filters.language)
        if filters.assignee:
            conditions.append(assignments.c.assignee == filters.assignee)
        if filters.team:
            conditions.append(assignments.c.team == filters.team)
        if filters.customer:
            conditions.append(index.customer == filters.customer)
        if filters.label:
            conditions.append(index.sender_id.in_(labelled(filters.label)))
        since, until = day_start(filters.since), day_start(filters.until)
        if since is not None:
            conditions.append(index.last_at >= since)
        if until is not None:
            conditions.append(index.last_at < until + 86400)
        words = words_of(filters.search or "")
        if words:
            conditions.append(index.sender_id.in_(self._matching(words)))
        return conditions

    def _matching(self, words: Sequence[str]) -> Any:
        """The conversations whose messages hold every word: FTS5 on SQLite, the GIN-indexed
        text search on PostgreSQL, behind the one query of `page`."""
        if self.engine.dialect.name == "sqlite":
            found = text(
                f"SELECT sender_id FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :words"
            ).bindparams(words=fts5_query(words))
        else:
            found = text(
                f"SELECT sender_id FROM {SEARCH_TABLE} "
                "WHERE to_tsvector('simple', body) @@ to_tsquery('simple', :words)"
            ).bindparams(words=tsquery(words))
        return found.columns(sender_id=conversation_index.c.sender_id.type)

    async def others(self, customer: str, besides: str, limit: int = 10) -> list[Summary]:
        """The customer's other conversations, newest first: those the inbox shows under the
        same name or address (never for a customer it knows only by their id)."""
        if not customer or customer == besides:
            return []
        found = await self.page(Filters(customer=customer))
        return [row for row in found.rows if row.sender_id != besides][:limit]

    async def misses(self, since: float, limit: int = MAX_MISSES) -> list[Miss]:
        """The questions the knowledge base could not answer since `since` (a Unix time),
        newest first."""
        await self.catch_up()
        async with self.engine.connect() as connection:
            found = await connection.execute(
                select(knowledge_misses)
                .where(knowledge_misses.c.at >= since)
                .order_by(knowledge_misses.c.at.desc(), knowledge_misses.c.id.desc())
                .limit(limit)
            )
            return [Miss(r.sender_id, r.at, r.question, r.confidence, r.suggested) for r in found]

    async def review_queue(
        self, reason: str = "", reviewed: bool = False, before: float | None = None
    ) -> list[ReviewRow]:
        """The turns worth a look, newest first (a page of `PAGE`, older than `before`):
        those not reviewed yet, or (`reviewed`) those that were, with what came of them."""
        await self.catch_up()
        done = and_(
            reviewed_turns.c.sender_id == review_turns.c.sender_id,
            reviewed_turns.c.at == review_turns.c.at,
        )
        query = select(review_turns, reviewed_turns.c.outcome, reviewed_turns.c.by).select_from(
            review_turns.outerjoin(reviewed_turns, done)
        )
        query = query.where(
            reviewed_turns.c.outcome.is_not(None)
            if reviewed
            else reviewed_turns.c.outcome.is_(None)
        )
        if reason:
            query = query.where(review_turns.c.reasons.contains(reason, autoescape=True))
        if before is not None:
            query = query.where(review_turns.c.at < before)
        query = query.order_by(review_turns.c.at.desc(), review_turns.c.id.desc()).limit(PAGE)
        async with self.engine.connect() as connection:
            found = await connection.execute(query)
            return [
                ReviewRow(
                    r.sender_id,
                    r.at,
                    r.text,
                    r.intent,
                    r.confidence,
                    r.reasons.split(","),
                    r.outcome,
                    r.by,
                )
                for r in found
            ]

    async def mark_reviewed(self, sender_id: str, at: float, by: str, outcome: str) -> None:
        """Note that `by` looked at the turn (again: the latest outcome stands)."""
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(reviewed_turns).where(
                    reviewed_turns.c.sender_id == sender_id, reviewed_turns.c.at == at
                )
            )
            await connection.execute(
                insert(reviewed_turns).values(
                    sender_id=sender_id, at=at, by=by, done_at=time.time(), outcome=outcome[:255]
                )
            )

    async def rule_labels(self, sender_id: str) -> list[str]:
        """The labels analytics.yml's rules gave the conversation, as far as it is indexed."""
        await self.catch_up_reports()
        counts = analytics_counts.c
        query = (
            select(counts.name)
            .where(counts.sender_id == sender_id, counts.kind == "label")
            .distinct()
        )
        async with self.engine.connect() as connection:
            return sorted(row[0] for row in await connection.execute(query))

    async def choices(self) -> dict[str, list[str]]:
        """What the filters offer: the languages and labels in use, and who holds
        conversations."""
        await self.catch_up_reports()
        async with self.engine.connect() as connection:
            languages = await connection.execute(
                select(conversation_index.c.language)
                .where(conversation_index.c.language != "")
                .distinct()
            )
            used = await connection.execute(
                union(
                    select(labels_table.c.label),
                    select(analytics_counts.c.name).where(analytics_counts.c.kind == "label"),
                )
            )
            holders = await connection.execute(
                select(assignments.c.assignee).where(assignments.c.assignee.is_not(None)).distinct()
            )
            groups = await connection.execute(select(teams_table.c.name))
            return {
                "languages": sorted(r[0] for r in languages),
                "labels": sorted({r[0] for r in used}),
                "assignees": sorted(r[0] for r in holders),
                "teams": sorted(r[0] for r in groups),
            }

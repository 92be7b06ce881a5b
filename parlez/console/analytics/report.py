"""The reports: the conversations' figures over a range of days, read from the per-
conversation table the index keeps (parlez/console/analytics/facts.py), never from the
events. A few grouped queries, whatever the number of events behind them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from parlez.console.index import labelled
from parlez.console.models import (
    analytics_conversations,
    analytics_counts,
    knowledge_misses,
)

GRAINS = ("day", "week", "month")
#: the days a report covers when none are asked for
DEFAULT_DAYS = 30
#: the longest range one report reads
MAX_DAYS = 3 * 366
#: rows of the top lists
TOP = 10
#: the calls' figures each conversation's row holds, summed over the range
CALL_SUMS = (
    "calls",
    "contained_calls",
    "call_seconds",
    "transfers",
    "no_inputs",
    "no_matches",
    "heard",
    "heard_confidence",
)

conversations = analytics_conversations.c


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers: days in the reports' time zone, both included."""

    since: date
    until: date
    channel: str = ""
    language: str = ""
    model_id: str = ""
    label: str = ""
    grain: str = "day"

    @classmethod
    def parse(cls, args: dict[str, str], today: date) -> ReportFilters:
        """From a request's query (`since=2026-11-01&until=...&channel=...`). Raises
        ValueError with what is wrong, in words."""
        until = _day(args.get("until"), "until") or today
        since = _day(args.get("since"), "since") or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise ValueError("'since' is after 'until'")
        if (until - since).days >= MAX_DAYS:
            raise ValueError(f"a report covers at most {MAX_DAYS} days")
        grain = args.get("grain") or "day"
        if grain not in GRAINS:
            raise ValueError(f"'grain' is one of {', '.join(GRAINS)}")
        return cls(
            since,
            until,
            channel=args.get("channel", "")[:64],
            language=args.get("language", "")[:16],
            model_id=args.get("model", "")[:255],
            label=args.get("label", "")[:64],
            grain=grain,
        )

    def query(self) -> dict[str, str]:
        """The filters as a query string's values (links and exports keep them)."""
        values = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "channel": self.channel,
            "language": self.language,
            "model": self.model_id,
            "label": self.label,
            "grain": self.grain,
        }
        return {k: v for k, v in values.items() if v}


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{name}' is a day such as 2026-11-30, not '{value[:40]}'") from None


@dataclass
class Period:
    """One point of the time series: the day, or the week's Monday, or the month's 1st."""

    start: str
    conversations: int = 0
    resolved: int = 0
    handed_over: int = 0
    incoming: int = 0
    outgoing: int = 0
    rated: int = 0
    rating_sum: int = 0

    @property
    def csat(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


@dataclass
class AgentFigures:
    agent: str
    conversations: int
    first_response_seconds: float | None
    resolution_seconds: float | None
    csat: float | None
    rated: int


@dataclass
class Report:
    filters: ReportFilters
    #: False while older conversations are still being counted
    complete: bool = True
    conversations: int = 0
    incoming: int = 0
    outgoing: int = 0
    human_messages: int = 0
    resolved: int = 0
    handed_over: int = 0
    human: int = 0
    fallbacks: int = 0
    knowledge_questions: int = 0
    knowledge_misses: int = 0
    first_response_seconds: float | None = None
    resolution_seconds: float | None = None
    rated: int = 0
    csat: float | None = None
    #: ratings 1 to 5, how many of each
    ratings: dict[int, int] = field(default_factory=dict)
    converted: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    #: conversations started, by weekday (0 Monday) and hour, in the reports' time zone
    heatmap: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])
    agents: list[AgentFigures] = field(default_factory=list)
    series: list[Period] = field(default_factory=list)
    #: phone calls, when there are any: see ConversationFacts
    calls: int = 0
    contained_calls: int = 0
    call_seconds: float = 0.0
    transfers: int = 0
    no_inputs: int = 0
    no_matches: int = 0
    heard: int = 0
    heard_confidence: float = 0.0
    #: where callers hung up most often: the slot asked for, else the last action
    hangups: list[tuple[str, int]] = field(default_factory=list)

    # ---- the rates, None where there is nothing to divide -------------------------------

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.resolved, self.conversations)

    @property
    def handoff_rate(self) -> float | None:
        return self._rate(self.handed_over, self.conversations)

    @property
    def fallback_rate(self) -> float | None:
        return self._rate(self.fallbacks, self.incoming)

    @property
    def knowledge_miss_rate(self) -> float | None:
        return self._rate(self.knowledge_misses, self.knowledge_questions)

    @property
    def csat_response_rate(self) -> float | None:
        return self._rate(self.rated, self.conversations)

    @property
    def conversion_rate(self) -> float | None:
        return self._rate(self.converted, self.conversations)

    @property
    def containment_rate(self) -> float | None:
        return self._rate(self.contained_calls, self.calls)

    @property
    def call_average_seconds(self) -> float | None:
        return self.call_seconds / self.calls if self.calls else None

    @property
    def speech_confidence(self) -> float | None:
        """The average speech-recognition confidence of what customers said."""
        return self.heard_confidence / self.heard if self.heard else None

    def as_json(self) -> dict[str, Any]:
        figures = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("filters", "series", "agents", "heatmap", "ratings")
        }
        figures.update(
            {
                "filters": self.filters.query(),
                "resolution_rate": self.resolution_rate,
                "handoff_rate": self.handoff_rate,
                "fallback_rate": self.fallback_rate,
                "knowledge_miss_rate": self.knowledge_miss_rate,
                "csat_response_rate": self.csat_response_rate,
                "conversion_rate": self.conversion_rate,
                "containment_rate": self.containment_rate,
                "call_average_seconds": self.call_average_seconds,
                "speech_confidence": self.speech_confidence,
                "hangups": [{"where": w, "count": c} for w, c in self.hangups],
                "ratings": {str(k): v for k, v in self.ratings.items()},
                "top_intents": [{"intent": n, "count": c} for n, c in self.top_intents],
                "unanswered": [{"question": q, "count": c} for q, c in self.unanswered],
                "heatmap": self.heatmap,
                "agents": [asdict(a) for a in self.agents],
                "series": [{**asdict(p), "csat": p.csat} for p in self.series],
            }
        )
        return figures


def _count(column: ColumnElement[Any]) -> Any:
    """How many rows have the flag set (a boolean column) or a value (any other)."""
    if isinstance(column.type, Boolean):
        return func.coalesce(func.sum(case((column, 1), else_=0)), 0)
    return func.count(column)


def where_filtered(filters: ReportFilters, table: Any) -> list[Any]:
    columns = table.c
    found = [
        columns.day >= filters.since.isoformat(),
        columns.day <= filters.until.isoformat(),
    ]
    for name, value in (
        ("channel", filters.channel),
        ("language", filters.language),
        ("model_id", filters.model_id),
    ):
        if value:
            found.append(getattr(columns, name) == value)
    if filters.label:
        found.append(columns.sender_id.in_(labelled(filters.label)))
    return found


async def build_report(
    connection: AsyncConnection, filters: ReportFilters, zone: ZoneInfo
) -> Report:
    """The report for `filters`: a handful of grouped queries on the read model."""
    report = Report(filters)
    where = and_(*where_filtered(filters, analytics_conversations))
    totals = (
        await connection.execute(
            select(
                func.count().label("conversations"),
                func.coalesce(func.sum(conversations.incoming), 0).label("incoming"),
                func.coalesce(func.sum(conversations.outgoing), 0).label("outgoing"),
                func.coalesce(func.sum(conversations.human_messages), 0).label("human_messages"),
                _count(conversations.resolved).label("resolved"),
                _count(conversations.handed_over).label("handed_over"),
                _count(conversations.human).label("human"),
                func.coalesce(func.sum(conversations.fallbacks), 0).label("fallbacks"),
                func.coalesce(func.sum(conversations.knowledge_questions), 0).label(
                    "knowledge_questions"
                ),
                func.coalesce(func.sum(conversations.knowledge_misses), 0).label(
                    "knowledge_misses"
                ),
                func.avg(conversations.first_response_seconds).label("first_response_seconds"),
                func.avg(conversations.resolution_seconds).label("resolution_seconds"),
                _count(conversations.converted).label("converted"),
                *(
                    func.coalesce(func.sum(getattr(conversations, name)), 0).label(name)
                    for name in CALL_SUMS
                ),
            ).where(where)
        )
    ).one()
    for name, value in totals._mapping.items():
        if name in CALL_SUMS:
            value = float(value) if name in ("call_seconds", "heard_confidence") else int(value)
        elif name.endswith("_seconds") and value:
            value = float(value)
        setattr(report, name, value)
    report.conversations = int(report.conversations)

    ratings = await connection.execute(
        select(conversations.rating, func.count())
        .where(where, conversations.rating.is_not(None))
        .group_by(conversations.rating)
    )
    report.ratings = {r: 0 for r in range(1, 6)}
    for rating, count in ratings:
        report.ratings[int(rating)] = int(count)
    report.rated = sum(report.ratings.values())
    if report.rated:
        report.csat = sum(r * n for r, n in report.ratings.items()) / report.rated

    counts = analytics_counts.c
    for kind in ("outcome", "intent", "hangup"):
        query = (
            select(counts.name, func.sum(counts.count).label("total"))
            .where(counts.kind == kind, *where_filtered(filters, analytics_counts))
            .group_by(counts.name)
            .order_by(func.sum(counts.count).desc(), counts.name)
        )
        if kind != "outcome":
            query = query.limit(TOP)
        found = [(str(name), int(total)) for name, total in await connection.execute(query)]
        if kind == "outcome":
            report.outcomes = dict(found)
        elif kind == "intent":
            report.top_intents = found
        else:
            report.hangups = found

    heat = await connection.execute(
        select(conversations.weekday, conversations.hour, func.count())
        .where(where)
        .group_by(conversations.weekday, conversations.hour)
    )
    for weekday, hour, count in heat:
        report.heatmap[int(weekday)][int(hour)] = int(count)

    agents = await connection.execute(
        select(
            conversations.agent,
            func.count(),
            func.avg(conversations.first_response_seconds),
            func.avg(conversations.resolution_seconds),
            func.avg(conversations.rating),
            func.count(conversations.rating),
        )
        .where(where, conversations.human)
        .group_by(conversations.agent)
        .order_by(func.count().desc(), conversations.agent)
    )
    report.agents = [
        AgentFigures(
            str(agent),
            int(count),
            float(first) if first is not None else None,
            float(resolution) if resolution is not None else None,
            float(csat) if csat is not None else None,
            int(rated),
        )
        for agent, count, first, resolution, csat, rated in agents
    ]

    daily = await connection.execute(
        select(
            conversations.day,
            func.count(),
            _count(conversations.resolved),
            _count(conversations.handed_over),
            func.sum(conversations.incoming),
            func.sum(conversations.outgoing),
            func.count(conversations.rating),
            func.coalesce(func.sum(conversations.rating), 0),
        )
        .where(where)
        .group_by(conversations.day)
    )
    report.series = _series(filters, list(daily))
    report.unanswered = await _unanswered(connection, filters, zone)
    return report


def period_of(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _series(filters: ReportFilters, daily: list[Any]) -> list[Period]:
    """Every period of the range, the empty ones too (a chart's gaps are real zeros)."""
    periods: dict[str, Period] = {}
    day = filters.since
    while day <= filters.until:
        start = period_of(day, filters.grain).isoformat()
        periods.setdefault(start, Period(start))
        day += timedelta(days=1)
    for row in daily:
        start = period_of(date.fromisoformat(row[0]), filters.grain).isoformat()
        period = periods[start]
        period.conversations += int(row[1])
        period.resolved += int(row[2])
        period.handed_over += int(row[3])
        period.incoming += int(row[4] or 0)
        period.outgoing += int(row[5] or 0)
        period.rated += int(row[6])
        period.rating_sum += int(row[7] or 0)
    return list(periods.values())


async def _unanswered(
    connection: AsyncConnection, filters: ReportFilters, zone: ZoneInfo
) -> list[tuple[str, int]]:
    """The questions the knowledge base could not answer most often in the range, as they
    were written (lower case, trimmed); the unanswered page groups them by meaning."""
    start = datetime.combine(filters.since, datetime.min.time(), zone).timestamp()
    end = datetime.combine(filters.until + timedelta(days=1), datetime.min.time(), zone)
    question = func.lower(func.trim(knowledge_misses.c.question))
    query = (
        select(question.label("question"), func.count().label("count"))
        .where(knowledge_misses.c.at >= start, knowledge_misses.c.at < end.timestamp())
        .group_by(question)
        .order_by(func.count().desc(), question)
        .limit(TOP)
    )
    if filters.channel or filters.language or filters.model_id or filters.label:
        # A miss counts where its conversation does.
        kept = select(analytics_conversations.c.sender_id).where(
            *where_filtered(filters, analytics_conversations)
        )
        query = query.where(knowledge_misses.c.sender_id.in_(kept))
    return [(str(q), int(c)) for q, c in await connection.execute(query)]


async def dimensions(connection: AsyncConnection) -> dict[str, list[str]]:
    """What the filters offer: the channels, languages and models seen."""
    found = {}
    for name, column in (
        ("channels", conversations.channel),
        ("languages", conversations.language),
        ("models", conversations.model_id),
    ):
        rows = await connection.execute(select(column).where(column != "").distinct())
        found[name] = sorted(str(r[0]) for r in rows)
    return found

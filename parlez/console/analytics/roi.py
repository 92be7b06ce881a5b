"""What the assistant is worth (docs/analytics.md#conversions-and-roi): the purchases that
followed a chat, the conversion rate of visitors who chatted against those who did not, the
conversations resolved without a person and what they would have cost, and the return on
what the assistant costs.

    roi:
      conversions: [purchase]             # the events the pages report that count
      attribution_days: 30                # a purchase counts for a chat this long before it
      cost_per_human_conversation: 4.50   # what a conversation a person handles costs
      minutes_per_human_conversation: 8
      monthly_cost: 49                    # what the assistant costs a month
      currency: EUR
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from parlez.console.models import analytics_conversations, tracked

ROI_KEYS = (
    "conversions",
    "attribution_days",
    "cost_per_human_conversation",
    "minutes_per_human_conversation",
    "monthly_cost",
    "currency",
)
#: the channels whose conversations are web chat visitors' (the pages report by their id)
WEB_CHANNELS = ("webchat", "socketio")
VISIT = "visit"
#: senders looked up at a time (SQLite's limit on a statement's values)
CHUNK = 500


@dataclass(frozen=True)
class RoiConfig:
    conversions: tuple[str, ...] = ("purchase",)
    attribution_days: float = 30.0
    cost_per_human_conversation: float = 0.0
    minutes_per_human_conversation: float = 0.0
    monthly_cost: float = 0.0
    currency: str = "EUR"


@dataclass
class RoiReport:
    since: float
    until: float
    currency: str
    #: visitors the web chat saw on the business's pages, those of them who chatted
    visitors: int = 0
    chatters: int = 0
    converted_chatters: int = 0
    converted_others: int = 0
    conversions_after_chat: int = 0
    conversions_without_chat: int = 0
    #: currency -> total value
    value_after_chat: dict[str, float] = field(default_factory=dict)
    value_without_chat: dict[str, float] = field(default_factory=dict)
    resolved_without_person: int = 0
    money_saved: float = 0.0
    minutes_saved: float = 0.0
    cost: float = 0.0

    @property
    def chatter_rate(self) -> float | None:
        return self.converted_chatters / self.chatters if self.chatters else None

    @property
    def other_rate(self) -> float | None:
        others = self.visitors - self.chatters
        return self.converted_others / others if others > 0 else None

    @property
    def gain(self) -> float:
        """The value of purchases after a chat (in the report's currency) and the money
        saved."""
        return self.value_after_chat.get(self.currency, 0.0) + self.money_saved

    @property
    def roi(self) -> float | None:
        """(gain - cost) / cost; None without a cost."""
        return (self.gain - self.cost) / self.cost if self.cost > 0 else None

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        found.update(
            chatter_rate=self.chatter_rate,
            other_rate=self.other_rate,
            gain=self.gain,
            roi=self.roi,
        )
        return found


async def build_roi(
    connection: AsyncConnection, config: RoiConfig, since: float, until: float
) -> RoiReport:
    """The report for [since, until) (seconds since the epoch)."""
    report = RoiReport(since, until, config.currency)
    in_period = (tracked.c.at >= since) & (tracked.c.at < until)
    visitors = set(
        (
            await connection.scalars(
                select(tracked.c.sender_id).where(tracked.c.name == VISIT, in_period).distinct()
            )
        ).all()
    )
    conversions = (
        await connection.execute(
            select(tracked.c.sender_id, tracked.c.at, tracked.c.value, tracked.c.currency).where(
                tracked.c.name.in_(config.conversions), in_period
            )
        )
    ).all()
    chats = await _chat_starts(connection, visitors | {c.sender_id for c in conversions}, until)
    report.visitors = len(visitors)
    report.chatters = sum(1 for v in visitors if chats.get(v))
    window = config.attribution_days * 86400
    after: set[str] = set()
    without: set[str] = set()
    value_after: dict[str, float] = defaultdict(float)
    value_without: dict[str, float] = defaultdict(float)
    for conversion in conversions:
        starts = chats.get(conversion.sender_id, [])
        if any(conversion.at - window <= start <= conversion.at for start in starts):
            report.conversions_after_chat += 1
            after.add(conversion.sender_id)
            if conversion.value is not None:
                value_after[conversion.currency] += conversion.value
        else:
            report.conversions_without_chat += 1
            without.add(conversion.sender_id)
            if conversion.value is not None:
                value_without[conversion.currency] += conversion.value
    report.converted_chatters = len(after & visitors)
    report.converted_others = len({s for s in without & visitors if not chats.get(s)})
    report.value_after_chat = dict(value_after)
    report.value_without_chat = dict(value_without)
    ac = analytics_conversations
    resolved = await connection.scalar(
        select(func.count())
        .select_from(ac)
        .where(ac.c.resolved.is_(True), ac.c.started_at >= since, ac.c.started_at < until)
    )
    report.resolved_without_person = int(resolved or 0)
    report.money_saved = report.resolved_without_person * config.cost_per_human_conversation
    report.minutes_saved = report.resolved_without_person * config.minutes_per_human_conversation
    report.cost = config.monthly_cost * (until - since) / (30 * 86400)
    return report


async def _chat_starts(
    connection: AsyncConnection, senders: set[str], until: float
) -> dict[str, list[float]]:
    """When each of `senders` started a web chat conversation in which they wrote."""
    ac = analytics_conversations
    starts: dict[str, list[float]] = defaultdict(list)
    ordered = sorted(senders)
    for begin in range(0, len(ordered), CHUNK):
        rows = await connection.execute(
            select(ac.c.sender_id, ac.c.started_at).where(
                ac.c.sender_id.in_(ordered[begin : begin + CHUNK]),
                ac.c.channel.in_(WEB_CHANNELS),
                ac.c.incoming > 0,
                ac.c.started_at < until,
            )
        )
        for row in rows:
            starts[row.sender_id].append(row.started_at)
    return starts

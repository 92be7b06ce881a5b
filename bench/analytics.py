"""Reports benchmark: the console's reports over a large conversation store, and what keeping
their figures up to date costs.

    python bench/analytics.py                     # 50,000 conversations, 1,000,000 events, SQLite
    python bench/analytics.py --postgres          # the same on a PostgreSQL server it starts
    python bench/analytics.py --smoke --models DIR  # a small store: for CI

Rasa's `events` table is filled with varied conversations (four channels and languages, two
assistant versions, questions, bookings, leads, knowledge-base misses, fallbacks, handoffs a
person answers and resolves, ratings, labels, a second session for some), spread over 90
days; the reports count outcomes with the assistant's analytics.yml. Printed: the time to
count every conversation (the index's first build, once, in the background); p50/p99 over
`--repeat` reports of each kind, each timed as the route runs it (the index's catch-up, then
the report's queries); and the upkeep: the index's cost per new message on the inbox's rows
and on the reports', against the time the assistant takes to answer a message. Goals: report
p99 <= 300 ms; upkeep <= 5 % of a message's handling time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parlez.console.analytics.config import AnalyticsConfig  # noqa: E402
from parlez.console.analytics.report import ReportFilters, build_report  # noqa: E402
from parlez.console.database import ConsoleDatabase  # noqa: E402
from parlez.console.index import INBOX, REPORTS, ConversationIndex  # noqa: E402
from parlez.events import (  # noqa: E402
    ACTION_LISTEN,
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    FeedbackGiven,
    KnowledgeMissed,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from parlez.stores.sql import SQLTrackerStore, event_row, events_table  # noqa: E402

CHANNELS = ["webchat", "twilio", "telegram", "facebook"]
LANGUAGES = ["en", "fr", "de", "es"]
MODELS = ["20261101-090000-maple", "20261120-090000-maple"]
AGENTS = ["ana@shop.example", "ben@shop.example", "cy@shop.example"]
#: the newest day of the store; conversations go back 90 days from it
LAST_DAY = date(2026, 11, 30)
DAYS = 90


class Clock:
    def __init__(self, start: float) -> None:
        self.at = start

    def next(self, seconds: float = 6.0) -> float:
        self.at += seconds
        return self.at


def turn(clock: Clock, text: str, intent: str, channel: str, model: str) -> list[Event]:
    at = clock.next()
    return [
        UserUttered(
            text,
            {"name": intent, "confidence": 0.9},
            input_channel=channel,
            timestamp=at,
            metadata={"model_id": model},
        )
    ]


def session(clock: Clock, rng: random.Random, channel: str, model: str) -> list[Event]:
    """One session: a few turns of one of the kinds customers have."""
    made: list[Event] = [
        ActionExecuted("action_session_start", timestamp=clock.next(0)),
        SessionStarted(timestamp=clock.at),
        ActionExecuted(ACTION_LISTEN, timestamp=clock.at),
    ]
    kind = rng.choices(
        ["question", "booking", "lead", "miss", "fallback", "handoff", "chat"],
        [30, 18, 6, 8, 6, 10, 22],
    )[0]

    def answer(action: str, text: str, *extra: Event) -> None:
        at = clock.next(0.4)
        made.append(ActionExecuted(action, timestamp=at))
        made.append(BotUttered(text, timestamp=at))
        made.extend(extra)
        made.append(ActionExecuted(ACTION_LISTEN, timestamp=at))

    made += turn(clock, "hello", "greet", channel, model)
    answer("utter_greet", "Hello! How can I help?")
    if kind == "question":
        for _ in range(rng.randint(1, 3)):
            made += turn(clock, "what are your opening hours?", "ask_question", channel, model)
            answer("action_answer_from_kb", "Monday to Friday, 9 to 6.")
    elif kind == "booking":
        made += turn(clock, "can I book a haircut friday at 3?", "book", channel, model)
        answer("booking_form", "Your name?")
        made += turn(clock, "Sam", "inform", channel, model)
        answer("booking_form", "Shall I book it?")
        made += turn(clock, "yes", "affirm", channel, model)
        booked = rng.random() < 0.9
        answer(
            "action_book_appointment",
            "You're booked." if booked else "That time is taken.",
            SlotSet(
                "booking_id", f"b{rng.randint(1, 10**9)}" if booked else None, timestamp=clock.at
            ),
        )
    elif kind == "lead":
        made += turn(clock, "keep me posted: sam@example.com", "subscribe", channel, model)
        answer("action_save_lead", "Thank you, we will write.")
    elif kind == "miss":
        question = rng.choice(["do you sell gift cards?", "can I bring my dog?", "is there wifi?"])
        made += turn(clock, question, "ask_question", channel, model)
        answer(
            "action_answer_from_kb",
            "I do not know that one.",
            KnowledgeMissed(question=question, timestamp=clock.at),
        )
    elif kind == "fallback":
        made += turn(clock, "blorp zzt", "nlu_fallback", channel, model)
        answer("action_default_fallback", "Sorry, I did not get that.")
    elif kind == "handoff":
        made += turn(clock, "I want to talk to a person", "human", channel, model)
        answer("action_handoff", "A colleague will answer.", ConversationPaused(timestamp=clock.at))
        made.append(
            BotUttered(
                "Hi, Ana here.",
                metadata={"sent_by": rng.choice(AGENTS)},
                timestamp=clock.next(rng.uniform(30, 900)),
            )
        )
        if rng.random() < 0.8:
            made.append(ConversationResumed(timestamp=clock.next(rng.uniform(60, 1800))))
    else:
        made += turn(clock, "thanks", "thank", channel, model)
        answer("utter_welcome", "You're welcome!")
    if rng.random() < 0.3:
        rating = rng.choices([1, 2, 3, 4, 5], [3, 4, 8, 30, 55])[0]
        made.append(FeedbackGiven(rating=rating, timestamp=clock.next(20)))
    return made


def conversation(rng: random.Random, events: int) -> list[Event]:
    """Whole sessions until at least `events` events, starting on a day of the last 90 at a
    busy hour."""
    day = LAST_DAY - timedelta(days=rng.randrange(DAYS))
    hour = rng.choices(range(24), [1] * 8 + [6] * 10 + [3] * 6)[0]
    start = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=UTC)
    clock = Clock(start.timestamp())
    channel, model = rng.choice(CHANNELS), rng.choice(MODELS)
    made: list[Event] = [SlotSet("language", rng.choice(LANGUAGES), timestamp=clock.at)]
    while len(made) < events:
        made += session(clock, rng, channel, model)
        clock.next(rng.uniform(3600, 3 * 86400))
    return made


async def fill(store: SQLTrackerStore, conversations: int, events: int) -> int:
    await store._create_table()
    rng = random.Random(7)
    batch: list[dict[str, Any]] = []
    total = 0
    async with store.engine.begin() as connection:
        for n in range(conversations):
            sender = f"visitor-{n:06d}"
            for event in conversation(rng, events):
                batch.append(event_row(sender, event))
            if len(batch) >= 20_000:
                total += len(batch)
                await connection.execute(events_table.insert(), batch)
                batch = []
        if batch:
            total += len(batch)
            await connection.execute(events_table.insert(), batch)
    return total


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


class TimedIndex(ConversationIndex):
    """The index, timing what it spends on the inbox's rows and on the reports' apart."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.spent = {INBOX: 0.0, REPORTS: 0.0}

    async def _follow(self, which: int, batches: int | None) -> bool:
        began = time.perf_counter()
        try:
            return await super()._follow(which, batches)
        finally:
            self.spent[which] += time.perf_counter() - began


async def upkeep(
    store: SQLTrackerStore, index: TimedIndex, messages: int, conversations: int, together: int
) -> tuple[float, float]:
    """The index's time per new message (a customer's message and the answer saved to a
    conversation already counted), on the inbox's rows and on the reports', with the inbox
    catching up every `together` messages: after every one when it is open and follows
    each message, more when it catches up after a while. The reports follow when enough
    changes wait."""
    rng = random.Random(11)
    assert await index.catch_up_reports(None)
    index.spent = {INBOX: 0.0, REPORTS: 0.0}
    for _ in range(max(1, messages // together)):
        for _ in range(together):
            sender = f"visitor-{rng.randrange(conversations):06d}"
            tracker = await store.retrieve(sender)
            assert tracker is not None
            at = max(e.timestamp for e in tracker.events) + 60
            intent = {"name": "thank", "confidence": 0.9}
            tracker.update(UserUttered("thanks", intent, timestamp=at))
            tracker.update(BotUttered("You're welcome!", timestamp=at + 0.3))
            await store.save(tracker)
        assert await index.catch_up(None)
    done = max(1, messages // together) * together
    return index.spent[INBOX] * 1000 / done, index.spent[REPORTS] * 1000 / done


def message_handling_ms(models: Path, repeat: int) -> float | None:
    """The median time the assistant takes to answer a message, in-process (no HTTP), on
    the newest model in models/; None without one."""
    from parlez.agent import Agent
    from parlez.channels.channel import CollectingOutputChannel, UserMessage
    from parlez.model import latest_model

    archive = latest_model(models)
    if archive is None:
        return None
    agent = Agent.load(archive, actions_module="actions")
    agent.warm_up()
    texts = ["hello", "what are your opening hours?", "how much is a haircut?", "thanks"]

    async def run() -> float:
        samples = []
        for n in range(repeat):
            message = UserMessage(texts[n % 4], CollectingOutputChannel(), f"bench-{n // 4}")
            began = time.perf_counter()
            await agent.handle_message(message)
            samples.append((time.perf_counter() - began) * 1000)
        return statistics.median(samples[len(texts) :] or samples)

    return asyncio.run(run())


REPORT_QUERIES = [
    ("report, last 30 days", {}),
    ("report, 90 days by week", {"since": "2026-09-02", "grain": "week"}),
    ("report, one channel and language", {"channel": "twilio", "language": "fr"}),
    ("report, one assistant version", {"model": MODELS[1]}),
    ("report, one label", {"label": "vip"}),
]


async def measure(args: argparse.Namespace, url: str) -> list[tuple[str, float, float]]:
    store = SQLTrackerStore(url)
    print(f"filling {args.conversations} conversations ...", flush=True)
    total = await fill(store, args.conversations, args.events)
    database = ConsoleDatabase(store.engine)
    await database.upgrade()
    for n in range(0, args.conversations, 20):
        await database.add_label(f"visitor-{n:06d}", "vip")
    config = AnalyticsConfig.load(REPO, "UTC")
    index = ConversationIndex(store, database, config)
    rows: list[tuple[str, float, float]] = []
    began = time.perf_counter()
    assert await index.catch_up(None)
    built = (time.perf_counter() - began) * 1000
    rows.append((f"every conversation counted ({total:,} events)", built, built))
    zone = ZoneInfo("UTC")
    for label, query in REPORT_QUERIES:
        filters = ReportFilters.parse({**query, "until": LAST_DAY.isoformat()}, LAST_DAY)
        samples = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            await index.catch_up()
            async with index.engine.connect() as connection:
                report = await build_report(connection, filters, zone)
            samples.append((time.perf_counter() - began) * 1000)
        assert report.conversations > 0, label
        rows.append((label, *percentiles(samples)))
    timed = TimedIndex(store, database, config)
    for together in (1, 50):
        inbox, reports = await upkeep(
            store, timed, args.messages * together, args.conversations, together
        )
        label = "one at a time" if together == 1 else f"{together} at a time"
        rows.append((f"upkeep per message, {label}: the inbox", inbox, 0))
        rows.append((f"upkeep per message, {label}: the reports", reports, 0))
    await store.close()
    return rows


def stores(args: argparse.Namespace, stack: ExitStack) -> Iterator[tuple[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="parlez-analytics-bench-"))
    yield "SQLite", f"sqlite+aiosqlite:///{folder / 'conversations.db'}"
    if args.postgres:
        from tests.services import start_postgres

        server = stack.enter_context(contextmanager(start_postgres)(folder / "pg"))
        server.psql("CREATE DATABASE bench")
        yield "PostgreSQL", server.url("bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument(
        "--events", type=int, default=13, help="events per conversation, at least (about 20)"
    )
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--messages", type=int, default=100, help="catch-ups timed for the upkeep, each way"
    )
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--models", default=str(REPO / "models"), help="the model folder")
    parser.add_argument("--smoke", action="store_true", help="a small store, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.conversations, args.repeat, args.messages = 300, 3, 2
    handling = message_handling_ms(Path(args.models), 20 if args.smoke else 200)
    with ExitStack() as stack:
        for name, url in stores(args, stack):
            rows = asyncio.run(measure(args, url))
            title = f"reports on {name}, {args.conversations} conversations"
            print(f"\n{title}{'  (SMOKE)' if args.smoke else ''}")
            print(f"{'':64} {'p50 ms':>8} {'p99 ms':>8}")
            for label, p50, p99 in rows:
                print(f"{label:64} {p50:8.2f} {f'{p99:8.1f}' if p99 else '':>8}")
            for label, share, _ in rows[-3::2]:
                if handling:
                    together = label.split(", ")[1].split(":")[0]
                    print(
                        f"the reports' upkeep, {together}: {share:.2f} ms a message, "
                        f"{100 * share / handling:.1f} % of answering one ({handling:.1f} ms)"
                    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()

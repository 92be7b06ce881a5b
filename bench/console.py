"""Console benchmark: the inbox over a large conversation store, and how soon it hears of a
new message.

    python bench/console.py                              # 10,000 conversations, 1,000,000 events
    python bench/console.py --conversations 2000 --events 50
    python bench/console.py --smoke --models DIR         # a small store: for CI

A SQLite store (Rasa's `events` table) is filled with conversations of `--events` events
each (user and bot turns on one of four channels, in one of four languages, some handed
over); the console is served in-process on the newest model in models/ (`parlez train`).
Printed: the time to build the inbox's index from every event (once, on the first start
after an upgrade); then p50/p99 over `--repeat` requests of the inbox's first page, a page
filtered to "waiting for a person", one filtered by channel and language, a full-text
search, the second page (by cursor) and a conversation's page, each rendered as the
browser gets it; the time from a conversation being saved to its `change` event in an open
inbox's feed, and to its row at the top of a refreshed inbox; and the peak memory. Goals:
inbox pages p99 <= 150 ms, the live update p99 <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parlez.agent import Agent  # noqa: E402
from parlez.console.database import ConsoleDatabase  # noqa: E402
from parlez.console.live import LiveFeed  # noqa: E402
from parlez.console.roles import Role  # noqa: E402
from parlez.events import (  # noqa: E402
    ACTION_LISTEN,
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from parlez.model import latest_model  # noqa: E402
from parlez.server.app import create_app  # noqa: E402
from parlez.server.state import ServerState  # noqa: E402
from parlez.stores.sql import SQLTrackerStore, event_row, events_table  # noqa: E402
from parlez.tracker import DialogueStateTracker  # noqa: E402

PASSWORD = "a long enough password"
TEXTS = ["hello", "what are your opening hours?", "can I book a haircut friday?", "thanks"]
CHANNELS = ["webchat", "twilio", "telegram", "facebook"]
LANGUAGES = ["en", "fr", "de", "es"]


def conversation(sender: str, events: int, start: float, handed_over: bool) -> list[Event]:
    made: list[Event] = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        ActionExecuted(ACTION_LISTEN, timestamp=start),
    ]
    at = start
    channel = random.choice(CHANNELS)
    made.append(SlotSet("language", random.choice(LANGUAGES), timestamp=start))
    while len(made) < events - 1:
        at += 7.0
        text = random.choice(TEXTS)
        if random.random() < 0.001:
            text = f"my order {random.randint(1000, 9999)} never arrived"
        intent = {"name": "greet", "confidence": 0.9}
        made.append(UserUttered(text, intent, input_channel=channel, timestamp=at))
        made.append(ActionExecuted("utter_greet", timestamp=at + 0.1))
        made.append(BotUttered("Hello! How can I help?", timestamp=at + 0.2))
        made.append(ActionExecuted(ACTION_LISTEN, timestamp=at + 0.3))
    if handed_over:
        made.append(ConversationPaused(timestamp=at + 1))
    return made[:events]


async def fill(store: SQLTrackerStore, conversations: int, events: int) -> None:
    await store._create_table()
    started = time.time() - conversations * 60
    batch: list[dict[str, Any]] = []
    async with store.engine.begin() as connection:
        for n in range(conversations):
            sender = f"visitor-{n:06d}"
            for event in conversation(sender, events, started + n * 60, n % 25 == 0):
                batch.append(event_row(sender, event))
            if len(batch) >= 20_000:
                await connection.execute(events_table.insert(), batch)
                batch = []
        if batch:
            await connection.execute(events_table.insert(), batch)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


async def measure(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    archive = latest_model(Path(args.models))
    if archive is None:
        raise SystemExit(f"no model in {args.models}: run `parlez train` first")
    folder = Path(tempfile.mkdtemp(prefix="parlez-console-bench-"))
    store = SQLTrackerStore(f"sqlite+aiosqlite:///{folder / 'conversations.db'}")
    print(f"filling {args.conversations} conversations x {args.events} events ...", flush=True)
    await fill(store, args.conversations, args.events)
    database = ConsoleDatabase(store.engine)
    await database.add_user("bench@example.com", PASSWORD, Role.AGENT)
    agent = Agent.load(archive, tracker_store=store)
    app = create_app(ServerState(agent=agent, tracker_store=store, console=database))
    began = time.perf_counter()
    assert await app.ctx.console_index.catch_up(None)
    built = (time.perf_counter() - began) * 1000
    rows: list[tuple[str, float, float]] = []
    rows.append((f"index built from {args.conversations * args.events:,} events", built, built))
    # Served for real on a local port (the test client starts the app again per request).
    server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True)
    assert server is not None and server.server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    await server.start_serving()
    port = server.server.sockets[0].getsockname()[1]
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60)
    reply = await http.post(
        "/console/login", data={"email": "bench@example.com", "password": PASSWORD}
    )
    assert reply.status_code == 303, reply.text
    first = await http.get("/console/inbox")
    older = re.search(r'class="older" href="([^"]+)"', first.text)
    assert older is not None
    for label, path in (
        ("inbox, first page", "/console/inbox"),
        ("inbox, waiting for a person", "/console/inbox?status=open"),
        ("inbox, by channel and language", "/console/inbox?channel=twilio&language=fr"),
        ("inbox, search 'order never arrived'", "/console/inbox?search=order+never+arrived"),
        ("inbox, second page (cursor)", older.group(1).replace("&amp;", "&")),
        ("a conversation's page", f"/console/conversations/visitor-{args.conversations - 1:06d}"),
    ):
        samples = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            page = await http.get(path)
            samples.append((time.perf_counter() - began) * 1000)
            assert page.status_code == 200, page.text[:200]
        rows.append((label, *percentiles(samples)))
    # A feed of its own: the test client stops the app (closing its feed) after each request.
    feed = LiveFeed()
    store.listeners.append(feed.saved)
    stream = feed.stream()
    await anext(stream)
    samples = []
    for n in range(args.repeat):
        tracker = DialogueStateTracker.from_events(f"live-{n}", [UserUttered("hi")])
        began = time.perf_counter()
        await store.save(tracker)
        chunk = await anext(stream)
        samples.append((time.perf_counter() - began) * 1000)
        assert json.dumps(f"live-{n}") in chunk
    rows.append(("saved -> change event in an open inbox", *percentiles(samples)))
    samples = []
    for n in range(args.repeat):
        tracker = DialogueStateTracker.from_events(f"seen-{n}", [UserUttered("hi")])
        began = time.perf_counter()
        await store.save(tracker)
        page = await http.get("/console/inbox")
        samples.append((time.perf_counter() - began) * 1000)
        assert f"/console/conversations/seen-{n}" in page.text
    rows.append(("saved -> at the top of a refreshed inbox", *percentiles(samples)))
    await http.aclose()
    server.server.close()
    await server.before_stop()
    await server.after_stop()
    await stream.aclose()
    await store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--models", default=str(REPO / "models"), help="the model folder")
    parser.add_argument("--smoke", action="store_true", help="a small store, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.conversations, args.events, args.repeat = 200, 12, 5
    rows = asyncio.run(measure(args))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    title = f"console, {args.conversations} conversations x {args.events} events"
    print(f"\n{title}{'  (SMOKE)' if args.smoke else ''}")
    print(f"{'':42} {'p50 ms':>8} {'p99 ms':>8}")
    for label, p50, p99 in rows:
        print(f"{label:42} {p50:8.1f} {p99:8.1f}")
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()

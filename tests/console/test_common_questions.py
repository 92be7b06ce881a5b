"""The questions customers ask most, with the assistant's answers, exported for social
posts: grouped by intent and knowledge-base entry, greetings left out, the most common
wording and answer kept, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import time

import pytest

from parlez.console.roles import Role
from parlez.events import BotUttered, UserUttered
from tests.console.conftest import Console, add

pytestmark = pytest.mark.anyio

NOW = time.time()
PARKING = {
    "custom": {"sources": [{"id": "parking", "title": "Parking", "url": "https://x.test/p"}]}
}


def asked(text: str, intent: str, at: float) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=at)


async def test_the_questions_asked_most_come_with_their_answers(console: Console) -> None:
    store = console.app.ctx.state.agent.tracker_store
    for n, wording in enumerate(["Is there parking?", "is there parking?", "Where can I park?"]):
        await add(
            store,
            f"p{n}",
            asked("hello", "greet", NOW - 100),
            BotUttered("Hi!", timestamp=NOW - 99),
            asked(wording, "ask_kb", NOW - 90),
            BotUttered("Yes, the Maple Street car park.", PARKING, timestamp=NOW - 89),
        )
    await add(
        store,
        "h1",
        asked("What are your opening hours?", "ask_hours", NOW - 50),
        BotUttered("9 to 6.", timestamp=NOW - 49),
    )
    await add(
        store,
        "old",
        asked("Do you sell gift cards?", "ask_gifts", NOW - 40 * 86400),
        BotUttered("Yes.", timestamp=NOW - 40 * 86400),
    )
    viewer = await console.sign_in(Role.VIEWER)
    _, reply = await console.app.asgi_client.get(
        "/console/reports/questions.json?days=30", headers=viewer._cookie()
    )
    assert reply.status == 200
    found = reply.json["questions"]
    assert [q["topic"] for q in found] == ["Parking", "ask hours"]  # no greeting, nothing older
    parking = found[0]
    assert parking["asked"] == 3 and parking["url"] == "https://x.test/p"
    assert parking["examples"][0] in ("Is there parking?", "is there parking?")
    assert parking["answer"] == "Yes, the Maple Street car park."
    exported = await viewer.get("/console/reports/questions.csv?days=30")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["topic", "intent", "entry", "asked", "examples", "answer", "url"]
    assert rows[1][0] == "Parking" and rows[1][3] == "3"
    assert (await viewer.get("/console/reports/questions.json?days=0")).status == 400
    agent = await console.sign_in(Role.AGENT)
    assert (await agent.get("/console/reports/questions.csv")).status == 403

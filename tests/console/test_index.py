"""The inbox's index: every filter, full-text search and cursor pages, answered by one query
on SQLite and PostgreSQL, kept up with the tracker store's changes by any process."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from parlez.console.database import ConsoleDatabase
from parlez.console.index import PAGE, ConversationIndex, Cursor, Filters, fts5_query, tsquery
from parlez.console.models import SEARCH_TABLE, conversation_index
from parlez.console.roles import Role
from parlez.events import BotUttered, ConversationPaused, Event, SlotSet, UserUttered
from parlez.stores import tracker_store
from parlez.stores.tracker_store import InMemoryTrackerStore, TrackerStore
from parlez.tracker import DialogueStateTracker
from tests.console.conftest import Console

pytestmark = pytest.mark.anyio

DAY = 86400.0
#: 2026-03-01 00:00 UTC
MARCH = 1772323200.0


async def save(store: TrackerStore, sender_id: str, *events: Event) -> None:
    tracker = await store.get_or_create(sender_id)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


def shown(page_text: str) -> list[str]:
    return re.findall(r'href="/console/conversations/([^"]+)"', page_text)


async def a_small_inbox(console: Console) -> None:
    """Four conversations whose filters and messages tell them apart."""
    store = console.app.ctx.state.agent.tracker_store
    await save(
        store,
        "ana",
        UserUttered("Je voudrais réserver une coupe", input_channel="webchat", timestamp=MARCH),
        SlotSet("language", "fr", timestamp=MARCH),
        BotUttered("Avec plaisir !", timestamp=MARCH + 1),
    )
    await save(
        store,
        "ben",
        UserUttered("Where is my refund?", input_channel="twilio", timestamp=MARCH + DAY),
        ConversationPaused(timestamp=MARCH + DAY + 1),
    )
    await save(
        store,
        "cy",
        UserUttered("refunds take how long", input_channel="webchat", timestamp=MARCH + 2 * DAY),
    )
    await save(
        store,
        "dee",
        UserUttered("hello", input_channel="telegram", timestamp=MARCH + 3 * DAY),
        BotUttered("Hi! How can I help?", timestamp=MARCH + 3 * DAY + 1),
    )


async def test_every_filter_keeps_what_it_names(console: Console) -> None:
    await a_small_inbox(console)
    browser = await console.sign_in(Role.AGENT)
    assert (await browser.post("/console/conversations/cy/take-over")).status == 303
    await browser.post("/console/conversations/dee/labels", {"label": "VIP customer"})

    async def inbox(query: str) -> list[str]:
        reply = await browser.get(f"/console/inbox?{query}")
        assert reply.status == 200
        return shown(reply.text)

    # newest activity first: taking over is the newest
    assert await inbox("") == ["cy", "dee", "ben", "ana"]
    assert await inbox("status=open") == ["ben"]
    assert await inbox("status=human") == ["cy"]
    assert await inbox("status=bot") == ["dee", "ana"]
    assert await inbox("channel=webchat") == ["cy", "ana"]
    assert await inbox("language=fr") == ["ana"]
    assert await inbox("assignee=agent%40example.com") == ["cy"]
    assert await inbox("label=vip-customer") == ["dee"]
    assert await inbox("since=2026-03-02&until=2026-03-03") == ["ben"]
    assert await inbox("until=2026-03-01") == ["ana"]
    assert await inbox("channel=webchat&since=2026-03-02") == ["cy"]
    assert await inbox("since=not-a-day") == ["cy", "dee", "ben", "ana"]  # ignored


async def test_search_finds_words_in_any_message_typed_as_it_is_typed(console: Console) -> None:
    await a_small_inbox(console)
    browser = await console.sign_in(Role.VIEWER)

    async def search(words: str) -> list[str]:
        return shown((await browser.get(f"/console/inbox?search={words}")).text)

    assert await search("refund") == ["cy", "ben"]  # "refunds" too: the last word is a prefix
    assert await search("refund%20where") == ["ben"]  # every word
    assert await search("plaisir") == ["ana"]  # the bot's messages as well
    assert await search("How%20can%20I%20hel") == ["dee"]
    assert await search("nothing%20like%20this") == []
    # Search syntax is taken as words: nothing a person types is an operator.
    assert await search("%22refund%22%20OR%20*%20NEAR(") == []
    assert await search("%22%3A*%26!") == ["dee", "cy", "ben", "ana"]  # no word: no search
    assert await search("refund&status=open") == ["ben"]


async def test_search_ignores_accents_on_sqlite(console: Console) -> None:
    if console.database.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's 'simple' configuration keeps accents (no unaccent)")
    await a_small_inbox(console)
    browser = await console.sign_in(Role.VIEWER)
    assert shown((await browser.get("/console/inbox?search=reserver")).text) == ["ana"]


async def test_pages_follow_each_other_by_cursor_without_gaps_or_repeats(
    console: Console,
) -> None:
    store = console.app.ctx.state.agent.tracker_store
    # Two conversations share each time: the cursor orders them by id as well.
    for n in range(PAGE + 20):
        await save(store, f"c{n:03d}", UserUttered("hi", input_channel="rest", timestamp=n // 2))
    browser = await console.sign_in(Role.VIEWER)
    first = await browser.get("/console/inbox")
    found = shown(first.text)
    assert len(found) == PAGE
    link = re.search(r'class="older" href="([^"]+)"', first.text)
    assert link is not None
    second = await browser.get(link.group(1).replace("&amp;", "&"))
    found += shown(second.text)
    refresh = re.search(r'hx-get="([^"]+)"', second.text)
    assert refresh is not None and "after=" in refresh.group(1)  # live refresh keeps the page
    assert 'class="older"' not in second.text
    assert sorted(found) == sorted(f"c{n:03d}" for n in range(PAGE + 20))
    assert found == sorted(found, key=lambda s: (-(int(s[1:]) // 2), [-ord(c) for c in s]))


async def test_a_broken_cursor_shows_the_first_page(console: Console) -> None:
    await a_small_inbox(console)
    browser = await console.sign_in(Role.VIEWER)
    for after in ("nonsense", "x:y", ""):
        assert shown((await browser.get(f"/console/inbox?after={after}")).text)[0] == "dee"
    assert Cursor.parse("12.5:a:b") == Cursor(12.5, "a:b")  # ids may hold colons


async def test_labels_are_added_shown_removed_and_checked(console: Console) -> None:
    await a_small_inbox(console)
    browser = await console.sign_in(Role.AGENT)
    assert (
        await browser.post("/console/conversations/ana/labels", {"label": "Refund"})
    ).status == 303
    assert (
        await browser.post("/console/conversations/ana/labels", {"label": "refund"})
    ).status == 303
    page = (await browser.get("/console/conversations/ana")).text
    assert page.count('<span class="label">refund') == 1
    bad = await browser.post("/console/conversations/ana/labels", {"label": "<b>x</b>"})
    assert bad.status == 400
    missing = await browser.post("/console/conversations/nobody/labels", {"label": "x"})
    assert missing.status == 404
    removed = await browser.post("/console/conversations/ana/labels/refund/remove")
    assert removed.status == 303
    assert 'class="label"' not in (await browser.get("/console/conversations/ana")).text
    log = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "label" in log and "unlabel" in log


async def test_a_new_message_moves_its_conversation_to_the_top_at_once(console: Console) -> None:
    await a_small_inbox(console)
    browser = await console.sign_in(Role.VIEWER)
    assert shown((await browser.get("/console/inbox")).text)[0] == "dee"
    await console.customer_says("ana", "hello again")
    rows = await browser.get("/console/inbox")
    assert shown(rows.text)[0] == "ana" and "hello again" not in rows.text  # the bot answered last
    assert shown((await browser.get("/console/inbox?search=again")).text) == ["ana"]


async def test_two_processes_catching_up_at_once_index_each_message_once(
    console: Console,
) -> None:
    await a_small_inbox(console)
    store = console.app.ctx.state.agent.tracker_store
    first = ConversationIndex(store, console.database)
    second = ConversationIndex(store, ConsoleDatabase(console.database.engine))
    assert await asyncio.gather(first.catch_up(None), second.catch_up(None)) == [True, True]
    async with console.database.engine.connect() as connection:
        messages = await connection.scalar(text(f"SELECT count(*) FROM {SEARCH_TABLE}"))
        rows = await connection.scalar(select(func.count()).select_from(conversation_index))
    assert (messages, rows) == (6, 4)


async def test_a_replaced_conversation_shows_its_new_events(console: Console) -> None:
    await a_small_inbox(console)
    browser = await console.sign_in(Role.VIEWER)
    await browser.get("/console/inbox")
    replaced = [{"event": "user", "text": "a new start", "timestamp": MARCH + 9 * DAY}]
    _, reply = await console.app.asgi_client.put("/conversations/ben/tracker", json=replaced)
    assert reply.status in (200, 404)  # the HTTP API may be off: replace through the agent
    if reply.status == 404:
        tracker = DialogueStateTracker.from_events(
            "ben", [UserUttered("a new start", timestamp=MARCH + 9 * DAY)]
        )
        await console.app.ctx.state.agent.replace(tracker)
    page = (await browser.get("/console/inbox?status=open")).text
    assert "ben" not in shown(page)  # no longer paused
    assert shown((await browser.get("/console/inbox")).text)[0] == "ben"


async def test_an_index_of_another_history_is_rebuilt(tmp_path: Path) -> None:
    """A store in memory starts empty after a restart: an index kept in SQL from before
    must not show conversations that are gone."""
    database = ConsoleDatabase.at(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    before = InMemoryTrackerStore()
    await save(before, "gone", UserUttered("hello", timestamp=1.0))
    assert [r.sender_id for r in (await ConversationIndex(before, database).page()).rows] == [
        "gone"
    ]
    after = InMemoryTrackerStore()
    await save(after, "new", UserUttered("hello", timestamp=2.0))
    assert [r.sender_id for r in (await ConversationIndex(after, database).page()).rows] == ["new"]
    await database.close()


async def test_what_a_store_forgot_is_read_from_its_conversations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_store, "CHANGES_KEPT", 3)
    database = ConsoleDatabase.at(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    store = InMemoryTrackerStore()
    for n in range(5):
        await save(store, f"c{n}", UserUttered(f"message {n}", timestamp=float(n)))
    index = ConversationIndex(store, database)
    page = await index.page(Filters(search="message"))
    assert [r.sender_id for r in page.rows] == ["c4", "c3", "c2", "c1", "c0"]
    assert page.complete
    await database.close()


def test_search_words_are_quoted_for_each_engine() -> None:
    assert fts5_query(["refund", "whe"]) == '"refund" "whe"*'
    assert tsquery(["refund", "whe"]) == "refund & whe:*"

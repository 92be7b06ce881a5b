"""Segments of customers by what they did in chat, evaluated in SQL (SQLite and
PostgreSQL): who is in each, their tags in the e-mail platform, the customers' page filtered
by one, and its CSV export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from parlez.console.analytics.config import AnalyticsConfig, Outcome
from parlez.console.audience import MarketingFileError
from parlez.console.contacts import ContactBook
from parlez.console.database import ConsoleDatabase
from parlez.console.index import ConversationIndex
from parlez.console.marketing import MarketingConfig
from parlez.console.models import contacts
from parlez.console.roles import Role
from parlez.events import ActionExecuted, FeedbackGiven, SlotSet, UserUttered
from parlez.stores.sql import SQLTrackerStore
from tests.conftest import write
from tests.console.conftest import add, make_console

pytestmark = pytest.mark.anyio

#: 2026-03-02 09:30 UTC, and "now" for the segments: 100 days later
T = 1772443800.0
NOW = T + 100 * 86400
SEGMENTS = """\
segments:
  price-askers: {intent: ask_price}
  booked-balayage: {outcome: booked, entity: {service: balayage}}
  happy-french: {language: fr, rating_at_least: 4}
  unhappy: {rating_at_most: 2}
  lapsed: {not_seen_for_days: 90}
  recent: {seen_within_days: 30}
  vips: {label: vip}
  subscribers: {consent: true}
  booked-or-handed-over: {outcome: [booked, handed_over]}
  unresolved: {outcome: unresolved}
"""


def said(text: str, at: float, intent: str, **entities: str) -> UserUttered:
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.9},
        [{"entity": k, "value": v, "start": 0, "end": 1} for k, v in entities.items()],
        timestamp=at,
        input_channel="webchat",
    )


async def three_customers(store: SQLTrackerStore) -> None:
    """Ana: French, asked the price, booked a balayage, rated 5, said yes, 'vip'. Bo: asked
    the price, rated 2, recently. Cy: long ago, a message the assistant did not understand."""
    await add(
        store,
        "ana",
        SlotSet("language", "fr", timestamp=NOW - 5 * 86400),
        said("combien pour un balayage ?", NOW - 5 * 86400, "ask_price", service="balayage"),
        ActionExecuted("action_book", timestamp=NOW - 5 * 86400 + 60),
        FeedbackGiven(5, timestamp=NOW - 5 * 86400 + 120),
        SlotSet("email", "ana@example.com", timestamp=NOW - 5 * 86400 + 130),
        SlotSet("marketing_consent", True, timestamp=NOW - 5 * 86400 + 140),
    )
    await add(
        store,
        "bo",
        said("how much is a haircut", NOW - 86400, "ask_price", service="haircut"),
        FeedbackGiven(2, timestamp=NOW - 86400 + 60),
    )
    await add(
        store,
        "cy",
        said("hello?? anyone", T, "greet"),
        ActionExecuted("action_default_fallback", timestamp=T + 1),
    )


def config() -> AnalyticsConfig:
    return AnalyticsConfig(outcomes=(Outcome("booked", "action_book"),))


async def members(store: SQLTrackerStore) -> dict[str, set[str]]:
    """Each segment's customers, by their conversation's id."""
    index = ConversationIndex(store, ConsoleDatabase(store.engine), config())
    await index.database.upgrade()
    await index.database.add_label("ana", "vip")
    await index.catch_up_reports(None)
    book = ContactBook(store.engine)
    whose = {}
    for sender in ("ana", "bo", "cy"):
        contact = await book.of_conversation(sender)
        assert contact is not None
        whose[contact.id] = sender
    found = {}
    async with store.engine.connect() as connection:
        for segment in MarketingConfig.from_text(SEGMENTS).segments:
            rows = await connection.execute(segment.query(now=NOW))
            found[segment.name] = {whose[r.id] for r in rows}
    return found


async def test_each_segment_holds_the_customers_who_did_what_it_says(
    store: SQLTrackerStore,
) -> None:
    await three_customers(store)
    assert await members(store) == {
        "price-askers": {"ana", "bo"},
        "booked-balayage": {"ana"},
        "happy-french": {"ana"},
        "unhappy": {"bo"},
        "lapsed": {"cy"},
        "recent": {"ana", "bo"},
        "vips": {"ana"},
        "subscribers": {"ana"},
        "booked-or-handed-over": {"ana"},
        "unresolved": {"cy"},  # a fallback answered their last message
    }


def test_a_segment_s_mistake_names_its_line() -> None:
    with pytest.raises(MarketingFileError, match=r"marketing.yml:2.*unknown key 'intents'"):
        MarketingConfig.from_text("segments:\n  a: {intents: [x]}\n")
    with pytest.raises(MarketingFileError, match=r"'rating_at_least' is a number"):
        MarketingConfig.from_text("segments:\n  a: {rating_at_least: high}\n")
    with pytest.raises(MarketingFileError, match=r"'entity' maps an entity"):
        MarketingConfig.from_text("segments:\n  a: {entity: balayage}\n")
    with pytest.raises(MarketingFileError, match=r"without spaces"):
        MarketingConfig.from_text("segments:\n  big spenders: {outcome: booked}\n")
    with pytest.raises(MarketingFileError, match=r"needs conditions"):
        MarketingConfig.from_text("segments:\n  all: {}\n")


async def test_the_customers_page_filters_by_segment_and_exports_it(
    small_model: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    write(project / "marketing.yml", SEGMENTS)
    write(project / "analytics.yml", "outcomes:\n  booked: {action: action_book}\n")
    console = await make_console(
        small_model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", project=project
    )
    try:
        store = console.app.ctx.state.agent.tracker_store
        await three_customers(store)
        await add(
            store, "eve", said("hi", NOW, "greet"), SlotSet("customer_name", "=HYPERLINK(evil)")
        )
        owner = await console.sign_in(Role.OWNER)
        page = await owner.get("/console/customers?segment=booked-balayage")
        assert page.status == 200 and "ana@example.com" in page.text
        assert "outcome: booked; entity: service=balayage" in page.text
        shown = page.text.split("<tbody>")[1]
        assert "Web chat visitor: ana" in shown and "Web chat visitor: bo" not in shown
        assert (await owner.get("/console/customers?segment=nope")).status == 400
        exported = await owner.get("/console/customers.csv?segment=price-askers")
        assert exported.status == 200
        rows = list(csv.reader(io.StringIO(exported.text)))
        assert rows[0][:4] == ["customer", "name", "emails", "phones"]
        assert sorted(r[2] for r in rows[1:]) == ["", "ana@example.com"]
        everyone = list(csv.reader(io.StringIO((await owner.get("/console/customers.csv")).text)))
        assert "'=HYPERLINK(evil)" in [r[1] for r in everyone]  # never a formula
        agent = await console.sign_in(Role.AGENT)
        assert (await agent.get("/console/customers.csv")).status == 403
        async with store.engine.connect() as connection:
            assert len(list(await connection.execute(select(contacts.c.id)))) == 4
    finally:
        await console.close()

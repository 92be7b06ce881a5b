"""The ROI report: purchases the pages report, counted after a chat when the visitor wrote in
the web chat before it (within the attribution window), the conversion rates of visitors who
chatted and of those who did not, the work saved and the return, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from parlez.console.analytics.config import AnalyticsConfig, AnalyticsFileError
from parlez.console.analytics.roi import RoiConfig, build_roi
from parlez.console.database import ConsoleDatabase
from parlez.console.index import ConversationIndex
from parlez.console.tracking import record
from parlez.events import BotUttered, UserUttered
from parlez.stores.sql import SQLTrackerStore
from tests.console.conftest import add

pytestmark = pytest.mark.anyio

T = 1772443800.0
DAY = 86400.0
ROI = RoiConfig(
    cost_per_human_conversation=5.0,
    minutes_per_human_conversation=6.0,
    monthly_cost=30.0,
    currency="EUR",
)


async def chat(store: SQLTrackerStore, sender: str, at: float) -> None:
    await add(
        store,
        sender,
        UserUttered(
            "hi", {"name": "greet", "confidence": 0.9}, timestamp=at, input_channel="webchat"
        ),
        BotUttered("Hello!", timestamp=at + 1),
    )


async def test_purchases_after_a_chat_the_rates_and_the_return(store: SQLTrackerStore) -> None:
    database = ConsoleDatabase(store.engine)
    await database.upgrade()
    engine = store.engine
    for visitor in ("ana", "bo", "cy", "di", "ed"):
        await record(engine, visitor, "visit", at=T)
    await chat(store, "ana", T + 10)  # chats, then buys: after a chat
    assert await record(engine, "ana", "purchase", 120.0, "EUR", "A-1", at=T + 3600)
    assert not await record(engine, "ana", "purchase", 120.0, "EUR", "A-1", at=T + 3700)  # again
    await chat(store, "bo", T + 20)  # chats, does not buy
    await record(engine, "cy", "purchase", 50.0, "EUR", "C-1", at=T + 60)  # buys, never chats
    await chat(store, "di", T + 2 * DAY)  # buys, and chats only afterwards: not after a chat
    await record(engine, "di", "purchase", 10.0, "USD", "D-1", at=T + 100)
    await record(engine, "ed", "newsletter", at=T + 5)  # not a conversion
    index = ConversationIndex(store, database, AnalyticsConfig(roi=ROI))
    await index.catch_up_reports(None)
    async with engine.connect() as connection:
        report = await build_roi(connection, ROI, T - DAY, T + 29 * DAY)
    assert report.visitors == 5 and report.chatters == 3
    assert (report.conversions_after_chat, report.conversions_without_chat) == (1, 2)
    assert report.value_after_chat == {"EUR": 120.0}
    assert report.value_without_chat == {"EUR": 50.0, "USD": 10.0}
    assert report.chatter_rate == pytest.approx(1 / 3)
    assert report.other_rate == pytest.approx(1 / 2)  # cy of cy and ed
    assert report.resolved_without_person == 3
    assert (report.money_saved, report.minutes_saved) == (15.0, 18.0)
    assert report.cost == pytest.approx(30.0)
    assert report.roi == pytest.approx((120 + 15 - 30) / 30)
    assert report.as_json()["roi"] == report.roi
    # A chat longer ago than the attribution window does not count.
    async with engine.connect() as connection:
        short = await build_roi(connection, RoiConfig(attribution_days=0.01), T - DAY, T + 29 * DAY)
    assert short.conversions_after_chat == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roi:\n  monthly_cost: -1\n", "'monthly_cost' is a number, 0 or more"),
        ("roi:\n  currency: euro\n", "three-letter code"),
        ("roi:\n  conversions: purchase\n", "'conversions' lists"),
        ("roi:\n  cost: 3\n", "cost"),
    ],
)
def test_a_wrong_roi_setting_names_its_line(text: str, message: str) -> None:
    with pytest.raises(AnalyticsFileError, match=message) as raised:
        AnalyticsConfig.from_text(text)
    assert raised.value.where is not None and raised.value.where.line == 2


def test_the_roi_settings_are_read() -> None:
    config = AnalyticsConfig.from_text(
        "roi:\n  conversions: [purchase, booking_paid]\n  monthly_cost: 49\n  currency: gbp\n"
    )
    assert config.roi == RoiConfig(("purchase", "booking_paid"), monthly_cost=49.0, currency="GBP")

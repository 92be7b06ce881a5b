"""One customer's story, end to end, as a small business sees it: Ana chats on the web chat
about colouring and leaves her details with a yes to offers, later writes on Messenger from
the same address; she is one customer with both conversations, a member of the e-mail
audience tagged with what she asked about, gets the follow-up e-mail a day later (a fixed
clock, a real SMTP server), and her purchase on the shop's page shows in the ROI report.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parlez.console.analytics.config import AnalyticsConfig, LabelRule, Outcome
from parlez.console.analytics.roi import RoiConfig, build_roi
from parlez.console.audience import MailchimpAudience
from parlez.console.audience_sync import AudienceSync
from parlez.console.contacts import ContactBook
from parlez.console.database import ConsoleDatabase
from parlez.console.follow_ups import FollowUps
from parlez.console.index import ConversationIndex
from parlez.console.marketing import MarketingConfig
from parlez.console.tracking import record
from parlez.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from parlez.jobs import SqlJobs
from parlez.stores.sql import SQLTrackerStore
from tests.conftest import write
from tests.console.conftest import add, said
from tests.fakes.mailchimp import API_KEY, LIST_ID, FakeMailchimp, fake_mailchimp
from tests.jobs.conftest import Clock
from tests.services import SMTPServer, start_smtp

pytestmark = pytest.mark.anyio

T = 1772443800.0  # Monday 2 March 2026, 09:30 UTC
DAY = 86400.0
QUESTION = "Would you like to hear about our offers and news by e-mail now and then?"
ANALYTICS = AnalyticsConfig(
    outcomes=(Outcome("lead", "action_save_lead"),),
    labels=(LabelRule("colouring", intents=("ask_colouring",)),),
    roi=RoiConfig(monthly_cost=30.0, currency="EUR"),
)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    yield from start_smtp()


@pytest.fixture
def mailchimp() -> Iterator[FakeMailchimp]:
    with fake_mailchimp() as fake:
        yield fake


async def test_a_customer_across_channels_from_chat_to_purchase(
    store: SQLTrackerStore, tmp_path: Path, smtp: SMTPServer, mailchimp: FakeMailchimp
) -> None:
    project = tmp_path / "shop"
    write(
        project / "marketing.yml",
        "public_url: https://chat.shop.example/\n"
        "follow_ups:\n  thanks: {after: lead, wait_days: 1, template: thanks}\n",
    )
    write(project / "follow_ups" / "thanks.en.txt", "Subject: Thanks, {{ customer.name }}\n\nHi.\n")
    engine = store.engine
    database = ConsoleDatabase(engine)
    await database.upgrade()
    index = ConversationIndex(store, database, ANALYTICS)

    # On the shop's page, Ana's browser is visitor-7; she asks about colouring in the chat.
    await record(engine, "visitor-7", "visit", at=T)
    await add(
        store,
        "visitor-7",
        UserUttered(
            "how much is colouring?",
            {"name": "ask_colouring", "confidence": 0.9},
            timestamp=T + 10,
            input_channel="webchat",
        ),
        BotUttered("Colouring is from €60.", timestamp=T + 11),
        UserUttered(
            "can someone call me?",
            {"name": "leave_contact", "confidence": 0.9},
            timestamp=T + 20,
            input_channel="webchat",
        ),
        SlotSet("customer_name", "Ana Lima", timestamp=T + 21),
        SlotSet("email", "ana@example.com", timestamp=T + 22),
        BotUttered(QUESTION, timestamp=T + 23),
        SlotSet("marketing_consent", True, timestamp=T + 24),
        ActionExecuted("action_save_lead", timestamp=T + 25),
    )
    # Two hours later, on Messenger, from the same address.
    await add(
        store,
        "2411",
        said("is Saturday busy?", T + 7200, "facebook", psid="2411"),
        SlotSet("email", "Ana@Example.com", timestamp=T + 7201),
        BotUttered("Saturdays fill up early.", timestamp=T + 7202),
    )
    await index.catch_up_reports(None)

    # One customer, both conversations.
    book = ContactBook(engine)
    ana = await book.by_identifier("ana@example.com")
    assert ana is not None and ana.consent is True
    assert sorted(c.sender_id for c in await book.conversations(ana.id)) == ["2411", "visitor-7"]

    # In the e-mail audience, tagged with what she asked about and what she did.
    sync = AudienceSync(
        index, MailchimpAudience(API_KEY, LIST_ID, mailchimp.url), ("outcomes", "labels")
    )
    assert (await sync.sync()).sent == 1
    member = mailchimp.member("ana@example.com")
    assert member is not None and member["status"] == "subscribed"
    assert member["tags"] == {"colouring", "lead"}
    await sync.audience.aclose()

    # The follow-up a day after the lead, once.
    clock = Clock(T + 25 + DAY - 60)
    business = {
        "name": "Maple Street Studio",
        "email": {"type": "smtp", "host": "127.0.0.1", "port": smtp.port, "from": "hi@ms.example"},
    }
    config = MarketingConfig.load(project, ANALYTICS.outcome_names)
    follow_ups = FollowUps(index, config, project, lambda: business, clock=clock)
    jobs = SqlJobs(engine, clock=clock)
    follow_ups.schedule_on(jobs)
    assert await follow_ups.scan() == 0  # not yet
    clock.now += 120
    assert await follow_ups.scan() == 1
    while await jobs.run_due():
        pass
    [mail] = smtp.received
    assert (mail["To"], mail["Subject"]) == ("ana@example.com", "Thanks, Ana Lima")

    # Back on the page two days later, she buys: a conversion after a chat.
    assert await record(engine, "visitor-7", "purchase", 95.0, "EUR", "order-1", at=T + 2 * DAY)
    await index.catch_up_reports(None)
    async with engine.connect() as connection:
        report = await build_roi(connection, ANALYTICS.roi, T - DAY, T + 7 * DAY)
    assert report.conversions_after_chat == 1 and report.value_after_chat == {"EUR": 95.0}

"""The e-mail marketing platform's audience, kept from the customers: who is sent (only
those who answered the marketing question), with what status and tags, only what changed,
and what happens when the platform refuses or is down. Against a local Mailchimp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parlez.console.analytics.config import AnalyticsConfig, Outcome
from parlez.console.audience import (
    AudienceError,
    MailchimpAudience,
    MarketingFileError,
    Member,
    subscriber_hash,
)
from parlez.console.audience_sync import AudienceSync
from parlez.console.database import ConsoleDatabase
from parlez.console.index import ConversationIndex
from parlez.console.marketing import MarketingConfig
from parlez.console.roles import Role
from parlez.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from parlez.exceptions import MissingEnvironmentVariableError
from parlez.stores.sql import SQLTrackerStore
from tests.conftest import write
from tests.console.conftest import add, make_console
from tests.fakes.mailchimp import API_KEY, LIST_ID, FakeMailchimp, fake_mailchimp

pytestmark = pytest.mark.anyio

T = 1772443800.0
QUESTION = "Would you like to hear about our offers and news by e-mail now and then?"


@pytest.fixture
def mailchimp() -> Iterator[FakeMailchimp]:
    with fake_mailchimp() as fake:
        yield fake


def lead(at: float, email: str, name: str, yes: bool) -> tuple[Event, ...]:
    """The lead form: a name, an address, the marketing question answered."""
    return (
        UserUttered(
            "call me back",
            {"name": "request_contact", "confidence": 0.9},
            timestamp=at,
            input_channel="webchat",
        ),
        SlotSet("customer_name", name, timestamp=at + 1),
        SlotSet("email", email, timestamp=at + 2),
        BotUttered(QUESTION, timestamp=at + 3),
        SlotSet("marketing_consent", yes, timestamp=at + 4),
        ActionExecuted("action_save_lead", timestamp=at + 5),
    )


def syncing(store: SQLTrackerStore, mailchimp: FakeMailchimp) -> AudienceSync:
    config = AnalyticsConfig(outcomes=(Outcome("lead", "action_save_lead"),))
    index = ConversationIndex(store, ConsoleDatabase(store.engine), config)
    audience = MailchimpAudience(API_KEY, LIST_ID, mailchimp.url)
    return AudienceSync(index, audience, ("outcomes", "labels"))


async def test_customers_who_said_yes_are_members_with_their_tags_and_no_one_else(
    store: SQLTrackerStore, mailchimp: FakeMailchimp
) -> None:
    await add(store, "v1", *lead(T, "Ana.Lima@example.com", "Ana Lima", yes=True))
    await add(store, "v2", *lead(T + 10, "bo@example.com", "Bo Berg", yes=False))
    await add(store, "v3", UserUttered("hi", timestamp=T + 20), SlotSet("email", "cy@example.com"))
    database = ConsoleDatabase(store.engine)
    await database.upgrade()
    await database.add_label("v1", "gift-cards")
    sync = syncing(store, mailchimp)
    result = await sync.sync()
    assert (result.sent, result.failed) == (2, 0)
    ana = mailchimp.member("ana.lima@example.com")
    assert ana is not None and ana["id"] == subscriber_hash("Ana.Lima@example.com")
    assert ana["status"] == "subscribed"
    assert ana["merge_fields"] == {"FNAME": "Ana", "LNAME": "Lima", "PHONE": ""}
    assert ana["tags"] == {"lead", "gift-cards"}
    bo = mailchimp.member("bo@example.com")
    assert bo is not None and bo["status"] == "unsubscribed"
    assert mailchimp.member("cy@example.com") is None  # never asked: never sent
    # Nothing changed: nothing sent.
    calls = len(mailchimp.calls)
    assert (await sync.sync()).unchanged == 2 and len(mailchimp.calls) == calls
    await sync.audience.aclose()


async def test_a_withdrawal_unsubscribes_and_a_new_yes_asks_the_customer_to_confirm(
    store: SQLTrackerStore, mailchimp: FakeMailchimp
) -> None:
    sync = syncing(store, mailchimp)
    await add(store, "v1", *lead(T, "ana@example.com", "Ana", yes=True))
    await sync.sync()
    await add(
        store,
        "v1",
        BotUttered(QUESTION, timestamp=T + 100),
        SlotSet("marketing_consent", False, timestamp=T + 101),
    )
    await sync.sync()
    assert mailchimp.member("ana@example.com")["status"] == "unsubscribed"  # type: ignore[index]
    await add(
        store,
        "v1",
        BotUttered(QUESTION, timestamp=T + 200),
        SlotSet("marketing_consent", True, timestamp=T + 201),
    )
    result = await sync.sync()
    assert result.sent == 1
    # Mailchimp keeps an unsubscribed member from being subscribed again by API: pending,
    # and Mailchimp asks them to confirm.
    assert mailchimp.member("ana@example.com")["status"] == "pending"  # type: ignore[index]
    await sync.audience.aclose()


async def test_a_tag_no_longer_earned_is_taken_off(
    store: SQLTrackerStore, mailchimp: FakeMailchimp
) -> None:
    sync = syncing(store, mailchimp)
    await add(store, "v1", *lead(T, "ana@example.com", "Ana", yes=True))
    database = ConsoleDatabase(store.engine)
    await database.upgrade()
    await database.add_label("v1", "vip")
    await sync.sync()
    assert mailchimp.member("ana@example.com")["tags"] == {"lead", "vip"}  # type: ignore[index]
    await database.remove_label("v1", "vip")
    await sync.sync()
    assert mailchimp.member("ana@example.com")["tags"] == {"lead"}  # type: ignore[index]
    await sync.audience.aclose()


async def test_a_platform_that_is_down_loses_no_member(
    store: SQLTrackerStore, mailchimp: FakeMailchimp, caplog: pytest.LogCaptureFixture
) -> None:
    sync = syncing(store, mailchimp)
    await add(store, "v1", *lead(T, "ana@example.com", "Ana", yes=True))
    mailchimp.down = True
    result = await sync.sync()
    assert (result.sent, result.failed) == (0, 1)
    assert "P556" in caplog.text and "ana@example.com" not in caplog.text  # no address logged
    mailchimp.down = False
    mailchimp.too_many = 2  # Mailchimp's 429s are waited out
    assert (await sync.sync()).sent == 1
    assert mailchimp.member("ana@example.com") is not None
    await sync.audience.aclose()


async def test_a_wrong_key_is_an_error_that_names_the_member_by_its_hash(
    mailchimp: FakeMailchimp,
) -> None:
    audience = MailchimpAudience("wrong-us21", LIST_ID, mailchimp.url)
    with pytest.raises(AudienceError, match=subscriber_hash("ana@example.com")) as raised:
        await audience.upsert(Member("ana@example.com", True), frozenset())
    assert "401" in str(raised.value) and "ana@" not in str(raised.value)
    await audience.aclose()


def test_marketing_yml_names_its_mistakes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILCHIMP_API_KEY", API_KEY)
    config = MarketingConfig.from_text(
        "audience:\n  type: mailchimp\n  api_key: ${MAILCHIMP_API_KEY}\n  list_id: a1b2c3d4e5\n"
    )
    assert isinstance(config.audience, MailchimpAudience)
    assert config.tags == ("outcomes", "labels", "segments")
    assert config.audience.url == "https://us21.api.mailchimp.com/3.0"
    with pytest.raises(MarketingFileError, match=r"marketing.yml:2.*'sendgrid' is not known"):
        MarketingConfig.from_text("audience:\n  type: sendgrid\n")
    with pytest.raises(MarketingFileError, match="needs 'list_id'"):
        MarketingConfig.from_text("audience:\n  type: mailchimp\n  api_key: k-us1\n")
    with pytest.raises(MarketingFileError, match="unknown key 'tag'"):
        MarketingConfig.from_text("audience:\n  type: mailchimp\n  tag: [labels]\n")
    monkeypatch.delenv("MAILCHIMP_API_KEY")
    with pytest.raises(MissingEnvironmentVariableError, match="MAILCHIMP_API_KEY"):
        MarketingConfig.from_text(
            "audience:\n  type: mailchimp\n  api_key: ${MAILCHIMP_API_KEY}\n  list_id: x\n"
        )


async def test_the_console_shows_the_platform_and_syncs_on_demand(
    small_model: Path, tmp_path: Path, mailchimp: FakeMailchimp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`parlez run` syncs the customers marketing.yml names; the customers' page says how
    many are kept there and an owner sends what changed at once."""
    monkeypatch.setenv("MAILCHIMP_API_KEY", API_KEY)
    project = tmp_path / "project"
    write(
        project / "marketing.yml",
        "audience:\n  type: mailchimp\n  api_key: ${MAILCHIMP_API_KEY}\n"
        f"  list_id: {LIST_ID}\n  url: {mailchimp.url}\n",
    )
    console = await make_console(
        small_model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", project=project
    )
    try:
        store = console.app.ctx.state.agent.tracker_store
        await add(store, "v1", *lead(T, "ana@example.com", "Ana Lima", yes=True))
        owner = await console.sign_in(Role.OWNER)
        page = await owner.get("/console/customers")
        assert "Mailchimp: " in page.text and "kept in the audience" in page.text
        synced = await owner.post("/console/customers/sync")
        assert synced.status == 303
        assert mailchimp.member("ana@example.com")["status"] == "subscribed"  # type: ignore[index]
        page = await owner.get(synced.headers["location"])
        # (the server's own sync, at its start, may have sent it first)
        assert "Mailchimp: 1 address kept" in page.text and "Synced: " in page.text
        viewer = await console.sign_in(Role.VIEWER)
        assert (await viewer.post("/console/customers/sync")).status == 403
    finally:
        await console.close()


async def test_a_broken_marketing_file_is_shown_and_the_assistant_goes_on(
    small_model: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    write(project / "marketing.yml", "audience:\n  type: sendgrid\n")
    console = await make_console(
        small_model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", project=project
    )
    try:
        assert await console.customer_says("v1", "hello")
        owner = await console.sign_in(Role.OWNER)
        page = await owner.get("/console/customers")
        assert "marketing.yml:2" in page.text and "sendgrid" in page.text
    finally:
        await console.close()


async def test_an_unsubscribe_in_mailchimp_stands_until_the_customer_says_yes_again(
    small_model: Path, tmp_path: Path, mailchimp: FakeMailchimp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mailchimp calls back when a member unsubscribes from an e-mail's link: the customer's
    answer becomes no, and later syncs (a new tag) never subscribe them again."""
    secret = "s3cret-0123456789abcdef"
    monkeypatch.setenv("MAILCHIMP_API_KEY", API_KEY)
    project = tmp_path / "project"
    write(
        project / "marketing.yml",
        "audience:\n  type: mailchimp\n  api_key: ${MAILCHIMP_API_KEY}\n"
        f"  list_id: {LIST_ID}\n  url: {mailchimp.url}\n  webhook_secret: {secret}\n",
    )
    console = await make_console(
        small_model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", project=project
    )
    try:
        store = console.app.ctx.state.agent.tracker_store
        sync = console.app.ctx.audience_sync
        await add(store, "v1", *lead(T, "ana@example.com", "Ana Lima", yes=True))
        await sync.sync()
        hook = f"/console/marketing/mailchimp/{secret}"
        _, check = await console.app.asgi_client.get(hook)
        assert check.status == 200
        _, forged = await console.app.asgi_client.post(
            "/console/marketing/mailchimp/wrong-secret-0123456789", data={"type": "unsubscribe"}
        )
        assert forged.status == 403
        # The member unsubscribes in Mailchimp, which tells parlez.
        mailchimp.member("ana@example.com")["status"] = "unsubscribed"  # type: ignore[index]
        _, told = await console.app.asgi_client.post(
            hook,
            data={
                "type": "unsubscribe",
                "fired_at": "2026-12-05 10:31:02",
                "data[email]": "Ana@example.com",
                "data[reason]": "manual",
                "data[list_id]": LIST_ID,
            },
        )
        assert told.status == 200
        owner = await console.sign_in(Role.OWNER)
        found = await owner.get("/console/customers?q=ana")
        ana = int(found.text.split('href="/console/customers/')[1].split('"')[0])
        page = await owner.get(f"/console/customers/{ana}")
        assert (
            "no, since 2026-12-05 10:31" in page.text and "unsubscribed in Mailchimp" in page.text
        )
        # A new label: the member is updated, and stays unsubscribed.
        await console.database.add_label("v1", "vip")
        assert (await sync.sync()).sent == 1
        member = mailchimp.member("ana@example.com")
        assert member is not None and member["status"] == "unsubscribed"
        assert "vip" in member["tags"]
    finally:
        await console.close()


async def test_an_unsubscribe_parlez_was_not_told_of_is_never_overturned_by_a_sync(
    store: SQLTrackerStore, mailchimp: FakeMailchimp
) -> None:
    """The status is sent only with a new answer from the customer: a name or a tag that
    changes leaves an unsubscribe made in Mailchimp alone."""
    sync = syncing(store, mailchimp)
    await add(store, "v1", *lead(T, "ana@example.com", "Ana", yes=True))
    await sync.sync()
    mailchimp.member("ana@example.com")["status"] = "unsubscribed"  # type: ignore[index]
    await add(store, "v1", SlotSet("customer_name", "Ana Lima", timestamp=T + 50))
    assert (await sync.sync()).sent == 1
    member = mailchimp.member("ana@example.com")
    assert member is not None and member["status"] == "unsubscribed"
    assert member["merge_fields"]["LNAME"] == "Lima"
    await sync.audience.aclose()


async def test_the_segments_a_customer_is_in_are_tags_of_their_member(
    store: SQLTrackerStore, mailchimp: FakeMailchimp
) -> None:
    segments = MarketingConfig.from_text(
        "segments:\n  leads: {outcome: lead}\n  french: {language: fr}\n"
    ).segments
    config = AnalyticsConfig(outcomes=(Outcome("lead", "action_save_lead"),))
    index = ConversationIndex(store, ConsoleDatabase(store.engine), config)
    audience = MailchimpAudience(API_KEY, LIST_ID, mailchimp.url)
    sync = AudienceSync(index, audience, ("segments",), "Mailchimp", "", segments)
    await add(store, "v1", *lead(T, "ana@example.com", "Ana", yes=True))
    await sync.sync()
    assert mailchimp.member("ana@example.com")["tags"] == {"leads"}  # type: ignore[index]
    await add(store, "v1", SlotSet("language", "fr", timestamp=T + 30))
    await sync.sync()
    assert mailchimp.member("ana@example.com")["tags"] == {"leads", "french"}  # type: ignore[index]
    await audience.aclose()


async def test_an_audience_larger_than_a_statements_values_is_read(
    store: SQLTrackerStore, mailchimp: FakeMailchimp
) -> None:
    """33,000 customers who answered: more than SQLite's (and asyncpg's) 32,766 values a
    statement may carry, once read as a list of ids."""
    from sqlalchemy import insert

    from parlez.console.models import contact_identifiers, contacts

    database = ConsoleDatabase(store.engine)
    await database.upgrade()
    count = 33_000
    async with store.engine.begin() as connection:
        await connection.execute(
            insert(contacts),
            [
                {
                    "id": n,
                    "name": "",
                    "first_seen": T,
                    "last_seen": T,
                    "consent": True,
                    "consent_at": T,
                    "consent_wording": "",
                }
                for n in range(1, count + 1)
            ],
        )
        await connection.execute(
            insert(contact_identifiers),
            [
                {"kind": "email", "value": f"c{n}@example.com", "contact_id": n}
                for n in range(1, count + 1)
            ],
        )
    members = await syncing(store, mailchimp).members()
    assert len(members) == count and members["c77@example.com"][0] == 77

"""One customer across channels: the identifiers a conversation gives, contacts made and
merged as the index follows the conversations, merges by hand and their undo, on SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from parlez.console.analytics.config import AnalyticsConfig, Outcome
from parlez.console.contacts import ContactBook, email_identifier, phone_identifier, seen_in
from parlez.console.database import ConsoleDatabase
from parlez.console.index import ConversationIndex
from parlez.console.roles import Role
from parlez.events import ActionExecuted, BotUttered, Event, SlotSet
from parlez.stores.sql import SQLTrackerStore
from parlez.tracker import DialogueStateTracker
from tests.console.conftest import Browser, Console, add, said

pytestmark = pytest.mark.anyio

#: 2026-03-02 09:30 UTC
T = 1772443800.0


def conversation(sender: str, *events: Event) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, [])
    for event in events:
        tracker.update(event)
    return tracker


def test_each_channel_gives_its_identifiers() -> None:
    web = seen_in(
        conversation(
            "visitor-1",
            said("hi", T, "webchat", visitor={"name": "Ana Lima", "email": "Ana@Example.com"}),
            SlotSet("phone", "+44 7700 900123", timestamp=T + 5),
        )
    )
    assert web.identifiers == [
        ("webchat", "visitor-1"),
        ("email", "ana@example.com"),
        ("phone", "+447700900123"),
    ]
    assert web.name == "Ana Lima"
    whatsapp = seen_in(
        conversation(
            "whatsapp:+447700900123",
            said("hi", T, "twilio", phone="+447700900123", whatsapp=True),
        )
    )
    assert whatsapp.identifiers == [("whatsapp", "+447700900123"), ("phone", "+447700900123")]
    messenger = seen_in(conversation("2411", said("hi", T, "facebook", psid="2411")))
    assert messenger.identifiers == [("messenger", "2411")]
    telegram = seen_in(conversation("77", said("hi", T, "telegram", telegram_user_id=9001)))
    assert telegram.identifiers == [("telegram", "9001")]
    called = seen_in(conversation("+15550001111", said("hello", T, "twilio_voice")))
    assert called.identifiers == [("phone", "+15550001111")]


def test_addresses_and_numbers_are_compared_as_written_in_full() -> None:
    assert email_identifier(" Ana@Example.COM ") == "ana@example.com"
    assert email_identifier("not an address") is None
    assert phone_identifier("0044 (7700) 900-123") == "+447700900123"
    assert phone_identifier("whatsapp:+447700900123") == "+447700900123"
    assert phone_identifier("07700 900123") == "07700900123"  # no country: meets only itself
    assert phone_identifier("12") is None


async def contact_of(index: ConversationIndex, sender: str) -> Any:
    assert await index.catch_up_reports(None)
    return await ContactBook(index.engine).of_conversation(sender)


async def test_a_customer_on_the_web_chat_and_later_on_messenger_is_one_contact(
    store: SQLTrackerStore,
) -> None:
    index = ConversationIndex(store, ConsoleDatabase(store.engine))
    await add(store, "visitor-1", said("hi", T, "webchat", visitor={"email": "ana@example.com"}))
    web = await contact_of(index, "visitor-1")
    await add(store, "2411", said("hello", T + 86400, "facebook", psid="2411"))
    messenger = await contact_of(index, "2411")
    assert web.id != messenger.id  # nothing says yet that they are the same person
    # On Messenger she gives the same address (another case): the two become one.
    await add(store, "2411", SlotSet("email", "Ana@example.com", timestamp=T + 86460))
    one = await contact_of(index, "2411")
    assert one.id == web.id == (await contact_of(index, "visitor-1")).id
    assert one.conversations == 2
    assert set(one.identifiers) == {
        ("webchat", "visitor-1"),
        ("email", "ana@example.com"),
        ("messenger", "2411"),
    }
    book = ContactBook(store.engine)
    assert (await book.find(messenger.id)) == (None, web.id)  # where the merged one went
    merges = await book.merges(web.id)
    assert [(m.merged, m.by) for m in merges] == [(messenger.id, "")]
    assert await book.undo(merges[0].id) is None  # an identifier made it: it stays
    assert [c.title for c in await book.search("ana@")] == ["ana@example.com"]


async def test_a_merge_by_hand_is_undone_and_stays_undone(store: SQLTrackerStore) -> None:
    index = ConversationIndex(store, ConsoleDatabase(store.engine))
    await add(store, "+15550001111", said("hi", T, "twilio", phone="+15550001111"))
    await add(store, "visitor-2", said("hi", T + 60, "webchat"), SlotSet("customer_name", "Bo"))
    caller = await contact_of(index, "+15550001111")
    visitor = await contact_of(index, "visitor-2")
    book = ContactBook(store.engine)
    merged = await book.merge(visitor.id, caller.id, by="agent@example.com")
    assert merged is not None
    both = await contact_of(index, "+15550001111")
    assert both.id == visitor.id and both.conversations == 2 and both.title == "Bo"
    assert [t.sender_id for t in await book.journey(visitor.id)] == ["+15550001111", "visitor-2"]
    assert await book.merge(visitor.id, caller.id, by="agent@example.com") is None  # gone
    undone = await book.undo(merged)
    assert undone is not None and undone.undone_at is not None
    assert (await contact_of(index, "+15550001111")).id == caller.id
    # New messages in either conversation do not bring them together again.
    await add(store, "+15550001111", said("still there?", T + 120, "twilio", phone="+15550001111"))
    await add(store, "visitor-2", said("thanks", T + 180, "webchat"))
    assert (await contact_of(index, "+15550001111")).id == caller.id
    assert (await contact_of(index, "visitor-2")).id == visitor.id


async def test_a_recount_keeps_the_contacts_and_their_merges(store: SQLTrackerStore) -> None:
    index = ConversationIndex(store, ConsoleDatabase(store.engine))
    await add(store, "a", said("hi", T, "webchat"))
    await add(store, "b", said("hi", T + 1, "webchat"))
    first, second = await contact_of(index, "a"), await contact_of(index, "b")
    book = ContactBook(store.engine)
    assert await book.merge(first.id, second.id, by="owner@example.com") is not None
    booked = AnalyticsConfig(outcomes=(Outcome("booked", "action_book"),))
    recount = ConversationIndex(store, ConsoleDatabase(store.engine), booked)
    await add(store, "b", said("book", T + 2, "webchat"), ActionExecuted("action_book"))
    assert (await contact_of(recount, "b")).id == first.id
    journey = await book.journey(first.id)
    assert [(t.sender_id, t.outcomes) for t in journey] == [("a", []), ("b", ["booked"])]


async def as_json(browser: Browser, path: str) -> Any:
    _, reply = await browser.app.asgi_client.get(
        path, headers={**browser._cookie(), "accept": "application/json"}
    )
    assert reply.status == 200, reply.text
    return reply.json


async def test_the_customer_pages_show_one_journey_and_merge_by_hand(console: Console) -> None:
    store = console.app.ctx.state.agent.tracker_store
    await add(
        store,
        "visitor-1",
        said("hi", T, "webchat", visitor={"name": "<b>Ana</b>", "email": "ana@example.com"}),
    )
    await add(
        store,
        "2411",
        said("hello", T + 86400, "facebook", psid="2411"),
        SlotSet("email", "ana@example.com", timestamp=T + 86401),
    )
    await console.customer_says("bo", "hello")
    owner = await console.sign_in(Role.OWNER)
    listed = await owner.get("/console/customers?q=ana")
    assert listed.status == 200
    assert "&lt;b&gt;Ana&lt;/b&gt;" in listed.text and "<b>Ana</b>" not in listed.text
    found = await as_json(owner, "/console/customers?q=example.com")
    assert len(found["customers"]) == 1
    ana = found["customers"][0]
    assert ana["conversations"] == 2
    page = await owner.get(f"/console/customers/{ana['id']}")
    assert page.status == 200
    journey = page.text[page.text.index('class="journey"') :]
    assert journey.index("web chat") < journey.index("Messenger")  # oldest, named for people
    conversation = await owner.get("/console/conversations/2411")
    assert f'href="/console/customers/{ana["id"]}"' in conversation.text

    agent = await console.sign_in(Role.AGENT)
    bo = (await as_json(agent, "/console/customers?q=bo"))["customers"][0]
    merged = await agent.post(f"/console/customers/{ana['id']}/merge", {"other": str(bo["id"])})
    assert merged.status == 303
    assert (await owner.get(f"/console/customers/{bo['id']}")).status == 302  # to Ana's
    again = await owner.get(f"/console/customers/{ana['id']}")
    assert "by agent@" in again.text and "Undo" in again.text
    merge = next(m for m in (await ContactBook(store.engine).merges(ana["id"])) if m.by)
    undone = await agent.post(f"/console/customers/merges/{merge.id}/undo", {})
    assert undone.status == 303
    assert (await owner.get(f"/console/customers/{bo['id']}")).status == 200
    unknown = await agent.post(f"/console/customers/{ana['id']}/merge", {"other": "nobody@x.io"})
    assert "no customer is known by" in (await agent.get(unknown.headers["location"])).text

    viewer = await console.sign_in(Role.VIEWER)
    assert (
        "Merge another customer" not in (await viewer.get(f"/console/customers/{ana['id']}")).text
    )
    refused = await viewer.post(f"/console/customers/{ana['id']}/merge", {"other": "bo"})
    assert refused.status == 403


async def test_the_latest_answer_to_the_marketing_question_is_kept_with_its_wording(
    store: SQLTrackerStore,
) -> None:
    """An explicit yes is stored with when it was given and the question as it was put; a
    later no (here on another channel, the same customer) withdraws it."""
    index = ConversationIndex(store, ConsoleDatabase(store.engine))
    question = "Would you like to hear about our offers and news by e-mail now and then?"
    await add(
        store,
        "visitor-1",
        said("hi", T, "webchat"),
        SlotSet("email", "ana@example.com", timestamp=T + 1),
        BotUttered(question, timestamp=T + 2),
        SlotSet("marketing_consent", True, timestamp=T + 3),
    )
    yes = await contact_of(index, "visitor-1")
    assert (yes.consent, yes.consent_at, yes.consent_wording) == (True, T + 3, question)
    await add(
        store,
        "+447700900123",
        said("hi", T + 100, "twilio", phone="+447700900123"),
        SlotSet("email", "ana@example.com", timestamp=T + 101),
        BotUttered("Offers by text?", timestamp=T + 102),
        SlotSet("marketing_consent", False, timestamp=T + 103),
    )
    no = await contact_of(index, "+447700900123")
    assert no.id == yes.id
    assert (no.consent, no.consent_at, no.consent_wording) == (False, T + 103, "Offers by text?")


async def test_customers_met_and_merged_within_one_batch_end_as_one(
    store: SQLTrackerStore,
) -> None:
    """Two new customers, and a third conversation naming both, read in one batch of
    changes: one customer, with the three conversations and every identifier."""
    await add(store, "web-1", said("hi", T, "webchat", visitor={"email": "ana@example.com"}))
    await add(store, "+447700900123", said("hi", T + 1, "twilio", phone="+447700900123"))
    await add(
        store,
        "web-2",
        said("hi", T + 2, "webchat", visitor={"email": "ana@example.com"}),
        SlotSet("phone", "+44 7700 900123", timestamp=T + 3),
    )
    index = ConversationIndex(store, ConsoleDatabase(store.engine))
    one = await contact_of(index, "web-2")
    assert one.conversations == 3
    assert set(one.identifiers) == {
        ("webchat", "web-1"),
        ("email", "ana@example.com"),
        ("phone", "+447700900123"),
        ("webchat", "web-2"),
    }
    assert {(await contact_of(index, s)).id for s in ("web-1", "+447700900123")} == {one.id}

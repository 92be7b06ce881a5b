"""The inbox shows every conversation, and a person takes one over, answers the customer and
hands it back, each change made through the agent as events."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from parlez.console.inbox import facts
from parlez.console.index import PAGE
from parlez.console.roles import Role
from parlez.events import (
    BotUttered,
    ConversationPaused,
    DeliveryReported,
    FeedbackGiven,
    SlotSet,
    UserUttered,
)
from parlez.tracker import DialogueStateTracker
from tests.console.conftest import Console

pytestmark = pytest.mark.anyio

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


async def test_a_customers_conversation_appears_in_the_inbox(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    browser = await console.sign_in(Role.VIEWER)
    page = await browser.get("/console/inbox")
    assert page.status == 200
    assert "/console/conversations/visitor" in page.text and "rest" in page.text
    rows = await browser.get("/console/inbox?status=bot")
    assert "/console/conversations/visitor" in rows.text
    assert (
        "/console/conversations/visitor"
        not in (await browser.get("/console/inbox?status=open")).text
    )


async def test_a_person_takes_over_answers_and_hands_back(console: Console) -> None:
    agent = console.app.ctx.state.agent
    await console.customer_says("visitor", "hello")
    browser = await console.sign_in(Role.AGENT)

    assert (await browser.post("/console/conversations/visitor/take-over")).status == 303
    assert (await agent.retrieve("visitor")).is_paused()
    assert "human" in (await browser.get("/console/conversations/visitor")).text
    # While a person has it, the bot keeps the customer's messages and says nothing.
    assert await console.customer_says("visitor", "hello again") == []

    assert (
        await browser.post("/console/conversations/visitor/reply", {"text": "Hi, I am Ana"})
    ).status == 303
    tracker = await agent.retrieve("visitor")
    said = [e for e in tracker.events if isinstance(e, BotUttered)][-1]
    assert said.text == "Hi, I am Ana" and said.metadata["sent_by"] == "agent@example.com"
    assert "Hi, I am Ana" in (await browser.get("/console/conversations/visitor")).text

    assert (await browser.post("/console/conversations/visitor/hand-back")).status == 303
    assert not (await agent.retrieve("visitor")).is_paused()
    assert await console.customer_says("visitor", "hello") != []


async def test_a_reply_to_a_conversation_the_bot_has_takes_it_over(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    browser = await console.sign_in(Role.OWNER)
    await browser.post("/console/conversations/visitor/reply", {"text": "Can I help?"})
    assert (await console.app.ctx.state.agent.retrieve("visitor")).is_paused()
    assert (
        "/console/conversations/visitor" in (await browser.get("/console/inbox?status=human")).text
    )


async def test_a_resolved_conversation_is_with_the_bot_again(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    browser = await console.sign_in(Role.ADMIN)
    await browser.post("/console/conversations/visitor/take-over")
    await browser.post("/console/conversations/visitor/resolve")
    assert not (await console.app.ctx.state.agent.retrieve("visitor")).is_paused()
    assert (
        "/console/conversations/visitor"
        in (await browser.get("/console/inbox?status=resolved")).text
    )


async def test_what_a_customer_wrote_is_escaped_everywhere_it_is_shown(console: Console) -> None:
    # The customer chose both their id (the web chat's session, a REST sender) and their text.
    sender = "v<script>alert(3)</script>"
    await console.customer_says(sender, XSS)
    browser = await console.sign_in(Role.AGENT)
    for path in ("/console/inbox", f"/console/conversations/{quote(sender, safe='')}"):
        page = (await browser.get(path)).text
        assert "<script>alert(" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(3)" in page
    conversation = (await browser.get(f"/console/conversations/{quote(sender, safe='')}")).text
    assert "&lt;script&gt;alert(2)" in conversation


async def test_the_owner_reads_who_did_what(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    agent = await console.sign_in(Role.AGENT)
    await agent.post("/console/conversations/visitor/take-over")
    owner = await console.sign_in(Role.OWNER)
    log = (await owner.get("/console/audit")).text
    assert "agent@example.com" in log and "take_over" in log and "visitor" in log


async def test_a_conversation_id_no_store_can_hold_is_a_400(console: Console) -> None:
    browser = await console.sign_in(Role.AGENT)
    reply = await browser.get("/console/conversations/" + "x" * 300)
    assert reply.status == 400
    assert (await browser.get("/console/conversations/nobody")).status == 404


async def test_a_filtered_page_looks_past_the_first_page_of_conversations(
    console: Console,
) -> None:
    store = console.app.ctx.state.agent.tracker_store
    waiting = DialogueStateTracker.from_events(
        "oldest", [UserUttered("help", input_channel="webchat", timestamp=1.0)]
    )
    waiting.update(ConversationPaused(timestamp=2.0))
    await store.save(waiting)
    for n in range(PAGE + 5):  # a whole page of newer conversations with the bot, over REST
        await store.save(
            DialogueStateTracker.from_events(
                f"newer-{n}", [UserUttered("hi", input_channel="rest", timestamp=10.0 + n)]
            )
        )
    browser = await console.sign_in(Role.AGENT)
    assert "/console/conversations/oldest" not in (await browser.get("/console/inbox")).text
    waiting_page = (await browser.get("/console/inbox?status=open")).text
    assert "/console/conversations/oldest" in waiting_page
    assert "/console/conversations/newer-" not in waiting_page
    by_channel = (await browser.get("/console/inbox?channel=webchat")).text
    assert "/console/conversations/oldest" in by_channel and "newer-" not in by_channel


async def test_the_conversation_shows_who_the_customer_is_on_their_channel(
    console: Console,
) -> None:
    """What the channel says identifies the customer (an SMS's number, a Telegram user name)
    is listed, escaped: the customer chose their user name."""
    metadata = {"phone": "+447700900123", "username": "<b>ana</b>", "other": "not shown"}
    _, reply = await console.app.asgi_client.post(
        "/webhooks/rest/webhook",
        json={"sender": "sms-customer", "message": "hello", "metadata": metadata},
    )
    assert reply.status == 200
    browser = await console.sign_in(Role.VIEWER)
    page = (await browser.get("/console/conversations/sms-customer")).text
    assert "<dt>Phone</dt><dd>+447700900123</dd>" in page
    assert "<dd>&lt;b&gt;ana&lt;/b&gt;</dd>" in page and "not shown" not in page


async def test_the_conversation_shows_the_visitor_their_page_and_what_the_assistant_knows(
    console: Console,
) -> None:
    metadata = {
        "visitor": {"name": "Ana Lima", "email": "ana@example.com"},
        "page": {"url": "https://shop.example/prices", "title": "Prices"},
    }
    _, reply = await console.app.asgi_client.post(
        "/webhooks/rest/webhook",
        json={"sender": "web-visitor", "message": "hello", "metadata": metadata},
    )
    assert reply.status == 200
    agent = console.app.ctx.state.agent
    await agent.append_events(
        "web-visitor", [SlotSet("city", "Paris"), SlotSet("booking_id", "B-7")]
    )
    page = (
        await (await console.sign_in(Role.VIEWER)).get("/console/conversations/web-visitor")
    ).text
    assert (
        "<dt>Name</dt><dd>Ana Lima</dd>" in page
        and "<dt>E-mail</dt><dd>ana@example.com</dd>" in page
    )
    assert "<dt>Page</dt><dd>https://shop.example/prices</dd>" in page
    assert "<dt>city</dt><dd>Paris</dd>" in page and "<dt>booking id</dt><dd>B-7</dd>" in page


async def test_a_message_shows_its_images_files_and_sources_and_never_a_script_link(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    sources = [
        {"title": "Prices", "url": "https://shop.example/prices"},
        {"title": "Trap", "url": "javascript:alert(1)"},
    ]
    receipt = {"url": "/webchat/files/abc.pdf", "name": "receipt.pdf", "type": "application/pdf"}
    await console.app.ctx.state.agent.append_events(
        "visitor",
        [
            UserUttered("here it is", metadata={"attachment": receipt}),
            BotUttered(
                "Our prices",
                data={"image": "https://shop.example/menu.png", "custom": {"sources": sources}},
            ),
        ],
    )
    page = (await (await console.sign_in(Role.AGENT)).get("/console/conversations/visitor")).text
    assert 'File: <a href="/webchat/files/abc.pdf"' in page and ">receipt.pdf</a>" in page
    assert 'Image: <a href="https://shop.example/menu.png"' in page
    assert 'href="https://shop.example/prices"' in page and ">Prices</a>" in page
    assert "javascript:" not in page and "Trap" in page


async def test_an_answer_the_platform_could_not_deliver_is_shown_and_reports_keep_the_order(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    store = console.app.ctx.state.agent.tracker_store
    said_at = facts(await store.retrieve("visitor")).last_at
    later = said_at + 3600
    await console.app.ctx.state.agent.append_events(
        "visitor",
        [
            DeliveryReported(message_id="SM1", status="read", metadata={"channel": "twilio"}),
            DeliveryReported(
                message_id="SM2",
                status="undelivered",
                error="30007",
                metadata={"channel": "twilio"},
                timestamp=later,
            ),
        ],
    )
    page = (await (await console.sign_in(Role.VIEWER)).get("/console/conversations/visitor")).text
    assert "An answer did not reach the customer: twilio reported it undelivered" in page
    assert 'href="https://www.twilio.com/docs/api/errors/30007"' in page
    assert "reported it read" not in page  # what did reach the customer is not a notice
    # A report an hour later does not make the conversation newer in the inbox.
    assert facts(await store.retrieve("visitor")).last_at == said_at


async def test_the_customers_other_conversations_are_listed(console: Console) -> None:
    agent = console.app.ctx.state.agent
    for sender in ("monday", "friday", "stranger"):
        await console.customer_says(sender, "hello")
    for sender in ("monday", "friday"):
        await agent.append_events(sender, [SlotSet("customer_name", "Ana Lima")])
    browser = await console.sign_in(Role.AGENT)
    await browser.get("/console/inbox")  # the index reads the names
    page = (await browser.get("/console/conversations/friday")).text
    assert "Other conversations of Ana Lima (1)" in page
    assert 'href="/console/conversations/monday"' in page
    assert 'href="/console/conversations/stranger"' not in page
    alone = (await browser.get("/console/conversations/stranger")).text
    assert "Other conversations" not in alone


async def test_how_the_assistant_understood_is_shown_to_all_but_viewers(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    for role, shown in ((Role.AGENT, True), (Role.DESIGNER, True), (Role.VIEWER, False)):
        page = (await (await console.sign_in(role)).get("/console/conversations/visitor")).text
        assert ('class="intent"' in page) == shown, role


async def test_a_rating_is_shown_in_the_conversation_and_on_its_inbox_row(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    await console.customer_says("happy", "hello")
    agent = console.app.ctx.state.agent
    await agent.append_events("visitor", [FeedbackGiven(rating=2, comment="<b>too slow</b>")])
    await agent.append_events("happy", [FeedbackGiven(rating=5)])
    browser = await console.sign_in(Role.AGENT)
    inbox = (await browser.get("/console/inbox")).text
    assert 'class="rated poor"' in inbox and 'aria-label="rated 2 of 5"' in inbox
    assert 'aria-label="rated 5 of 5"' in inbox
    page = (await browser.get("/console/conversations/visitor")).text
    assert "The customer's rating" in page and "★★☆☆☆ 2/5" in page
    assert "&lt;b&gt;too slow&lt;/b&gt;" in page


async def test_a_resolved_conversation_asks_the_customer_for_a_rating(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    agent_browser = await console.sign_in(Role.AGENT)
    await agent_browser.post("/console/conversations/visitor/take-over")
    await agent_browser.post("/console/conversations/visitor/resolve")
    tracker = await console.app.ctx.state.agent.retrieve("visitor")
    question = [e for e in tracker.events if isinstance(e, BotUttered)][-1]
    assert question.metadata["survey"] == "rating" and len(question.data["buttons"]) == 5
    # The customer's button press is kept as their rating.
    replies = await console.customer_says("visitor", '/parlez_rating{"rating": 4}')
    assert replies[0]["text"].startswith("Thank you! Anything to add?")
    page = (await agent_browser.get("/console/conversations/visitor")).text
    assert "★★★★☆ 4/5" in page

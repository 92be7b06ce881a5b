"""Working a conversation as a team: notes the customer never sees, @mentions that wait for
a colleague, assigning to a colleague, and canned replies sent with `/shortcut`."""

from __future__ import annotations

import re

import pytest

from parlez.console.database import User
from parlez.console.roles import Role
from parlez.console.teamwork import mentioned
from parlez.events import BotUttered
from tests.console.conftest import Console, email

pytestmark = pytest.mark.anyio

XSS = '<img src=x onerror="alert(1)">'


async def test_a_note_stays_with_the_team_and_never_reaches_the_customer(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    agent = console.app.ctx.state.agent
    before = len((await agent.retrieve("visitor")).events)
    browser = await console.sign_in(Role.AGENT)
    reply = await browser.post("/console/conversations/visitor/notes", {"note": f"VIP {XSS}"})
    assert reply.status == 303
    assert len((await agent.retrieve("visitor")).events) == before  # no event: nothing sent
    page = (await browser.get("/console/conversations/visitor")).text
    assert "Note by agent@example.com" in page and "only the team sees it" in page
    assert XSS not in page and "&lt;img src=x" in page
    empty = await browser.post("/console/conversations/visitor/notes", {"note": "  "})
    assert empty.status == 400
    missing = await browser.post("/console/conversations/nobody/notes", {"note": "hi"})
    assert missing.status == 404


async def test_a_mention_waits_for_the_colleague_until_they_open_the_conversation(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    agent = await console.sign_in(Role.AGENT)
    note = "@admin can you check the refund? cc @viewer@example.com and @nobody"
    assert (await agent.post("/console/conversations/visitor/notes", {"note": note})).status == 303

    admin = await console.sign_in(Role.ADMIN)
    inbox = (await admin.get("/console/inbox")).text
    assert 'aria-label="1 waiting"' in inbox
    waiting = (await admin.get("/console/mentions")).text
    assert "can you check the refund?" in waiting
    assert 'href="/console/conversations/visitor"' in waiting
    await admin.get("/console/conversations/visitor")  # read
    assert "can you check the refund?" not in (await admin.get("/console/mentions")).text
    assert "waiting" not in re.sub(
        r"Nobody is waiting", "", (await admin.get("/console/inbox")).text
    )

    viewer = await console.sign_in(Role.VIEWER)
    assert "can you check the refund?" in (await viewer.get("/console/mentions")).text
    # The author is not told of their own note.
    assert "can you check the refund?" not in (await agent.get("/console/mentions")).text


def test_mentions_name_a_colleague_by_name_address_or_its_first_part() -> None:
    team = [
        User(1, "ana@example.com", "Ana Lopez", Role.AGENT),
        User(2, "ben@example.com", "ben", Role.ADMIN),
        User(3, "cy@example.com", "cy", Role.VIEWER),
    ]
    text = "@AnaLopez and @ben@example.com, see this; mail me at x@cy.com (not a mention)"
    assert mentioned(text, team) == ["ana@example.com", "ben@example.com"]
    assert mentioned("thanks @ana.", team) == ["ana@example.com"]


async def test_a_conversation_is_assigned_to_a_colleague_who_answers(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    admin = await console.sign_in(Role.ADMIN)
    reply = await admin.post(
        "/console/conversations/visitor/assign", {"assignee": email(Role.AGENT)}
    )
    assert reply.status == 303
    assert (await console.app.ctx.state.agent.retrieve("visitor")).is_paused()
    held = await console.database.assignment("visitor")
    assert held is not None and held.assignee == email(Role.AGENT)
    mine = (await admin.get("/console/inbox?assignee=agent%40example.com")).text
    assert "/console/conversations/visitor" in mine
    # A viewer cannot answer, so a conversation cannot be theirs; nor a stranger's.
    for wrong in (email(Role.VIEWER), "someone@else.com"):
        refused = await admin.post("/console/conversations/visitor/assign", {"assignee": wrong})
        assert refused.status == 400


async def test_canned_replies_are_kept_by_admins_and_sent_by_agents_with_a_shortcut(
    console: Console,
) -> None:
    await console.customer_says("visitor", "hello")
    admin = await console.sign_in(Role.ADMIN)
    saved = await admin.post(
        "/console/canned",
        {"shortcut": "/Opening Hours", "text": "We're open 9 to 6, Monday to Saturday."},
    )
    assert saved.status == 303
    listed = (await admin.get("/console/canned")).text
    assert "/opening-hours" in listed and "We&#39;re open 9 to 6" in listed
    # Saving the same shortcut changes its text.
    await admin.post("/console/canned", {"shortcut": "opening-hours", "text": "Open 9 to 6."})
    assert (await admin.get("/console/canned")).text.count("/opening-hours</code>") == 1

    agent = await console.sign_in(Role.AGENT)
    assert (await agent.post("/console/canned", {"shortcut": "x", "text": "y"})).status == 403
    sent = await agent.post("/console/conversations/visitor/reply", {"text": " /opening-hours "})
    assert sent.status == 303
    await agent.post("/console/conversations/visitor/reply", {"text": "/unknown stays as typed"})
    tracker = await console.app.ctx.state.agent.retrieve("visitor")
    said = [e.text for e in tracker.events if isinstance(e, BotUttered)][-2:]
    assert said == ["Open 9 to 6.", "/unknown stays as typed"]

    bad = await admin.post("/console/canned", {"shortcut": "no spaces!", "text": "x"})
    assert bad.status == 400
    (row,) = re.findall(
        r'action="/console/canned/(\d+)/delete"', (await admin.get("/console/canned")).text
    )
    assert (await admin.post(f"/console/canned/{row}/delete")).status == 303
    assert "No canned reply yet." in (await admin.get("/console/canned")).text
    log = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "canned_reply" in log and "delete_canned_reply" in log

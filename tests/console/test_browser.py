"""The console end to end in Debian's Chromium: a customer on the web chat asks for a
person, the conversation shows up in an agent's open inbox without a reload and the agent is
told a customer waits, the agent takes it over and answers from the keyboard, the customer
sees them typing and reads the answer, and after the hand-back the bot answers again."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import REPO
from tests.connectors.webchat.browser import served_assistant
from tests.console.conftest import signed_in_page
from tests.server.process import ServerProcess, add_console_user
from tests.services import Postgres

AGENT = "ana@example.com"
ADMIN = "ben@example.com"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    assistant_models: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[ServerProcess, str, Any]]:
    """The assistant with its web chat and console, a site that embeds the chat, a browser,
    and an agent's account; conversations and the console's tables in SQLite, then in
    PostgreSQL."""
    root = tmp_path_factory.mktemp("console-browser")
    tracker_store = None
    if request.param == "postgresql":
        server: Postgres = request.getfixturevalue("postgres")
        name = f"b{uuid.uuid4().hex[:10]}"
        server.psql(f"CREATE DATABASE {name}")
        tracker_store = (
            f"type: SQL\ndialect: postgresql\nurl: 127.0.0.1\nport: {server.port}\n"
            f"db: {name}\nusername: {server.user}"
        )
    with served_assistant(assistant_models, root, tracker_store=tracker_store) as served:
        # As a business would, from a shell, while the assistant is running.
        for address, role in ((AGENT, "agent"), (ADMIN, "admin")):
            add_console_user(REPO, root / "endpoints.yml", address, role, PASSWORD)
        yield served


def _signed_in(browser: Any, server: ServerProcess, address: str) -> tuple[Any, Any]:
    return signed_in_page(browser, server.url, address, PASSWORD)


def _session_of(page: Any) -> str:
    return str(
        page.evaluate(
            "() => JSON.parse(Object.entries(localStorage)"
            ".find(([k]) => k.endsWith(':session'))[1])"
        )
    )


def test_an_agent_answers_a_web_chat_customer_who_asked_for_a_person(
    served: tuple[ServerProcess, str, Any],
) -> None:
    server, site_url, browser = served
    agent_context, agent = _signed_in(browser, server, AGENT)
    customer_context = browser.new_context(viewport={"width": 390, "height": 760})
    try:
        customer = customer_context.new_page()
        customer.set_default_timeout(60_000)

        customer.goto(site_url)
        customer.locator(".launcher").click()
        customer.locator(".msg.bot").first.wait_for()
        customer.get_by_role("button", name="Talk to a person").click()
        customer.locator(".note.human").wait_for()
        session = _session_of(customer)

        # The inbox was open before the customer wrote: the row arrives without a reload.
        link = agent.locator(f'a[href="/console/conversations/{session}"]')
        row = agent.locator("#rows tr", has=link)
        row.wait_for()
        assert "open" in row.inner_text()
        # Every agent online is told that a customer waits, with a way to them.
        alert = agent.get_by_role("alert")
        alert.get_by_text("A customer is waiting for a person").wait_for()
        assert session in alert.inner_text()
        row.get_by_role("link").click()
        # The keyboard alone: `?` lists the shortcuts, `t` takes over, `r` goes to the reply.
        agent.get_by_role("button", name="Take over").wait_for()
        # The shortcuts work once console.js has run, which the page's load event waits for:
        # a key pressed before would be lost, and the reply typed after it read as shortcuts
        # ("e" of "here" resolving the conversation), as happened on a loaded machine.
        agent.wait_for_load_state()
        agent.keyboard.press("?")
        shortcuts = agent.get_by_role("dialog", name="Keyboard shortcuts")
        shortcuts.wait_for()
        assert "Take over" in shortcuts.inner_text() and "Reply" in shortcuts.inner_text()
        shortcuts.get_by_role("button", name="Close").click()
        agent.keyboard.press("t")
        agent.get_by_role("button", name="Hand back").wait_for()
        agent.wait_for_load_state()
        agent.keyboard.press("r")
        expect(agent.get_by_label("Reply")).to_be_focused(timeout=60_000)
        agent.keyboard.type("Hi, Ana here. How can I help?")
        assert agent.get_by_label("Reply").input_value() == "Hi, Ana here. How can I help?"
        # The customer sees that a person is writing to them, before the message comes.
        customer.get_by_role("status", name="Someone from our team is typing…").wait_for()
        agent.get_by_role("button", name="Send").click()
        agent.locator(".transcript .person", has_text="Ana here").wait_for()

        customer.locator(".msg.bot.human", has_text="Ana here").wait_for()

        agent.get_by_role("button", name="Hand back").click()
        agent.get_by_role("button", name="Take over").wait_for()
        box = customer.get_by_role("textbox")
        box.fill("What are your opening hours?")
        box.press("Enter")
        customer.locator(".msg.bot", has_text=re.compile("Monday", re.I)).wait_for()
    finally:
        agent_context.close()
        customer_context.close()


#: what a customer (or a colleague's note) might write to run code in an agent's browser:
#: each sets `window.__xss` if it ever runs
XSS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    '"><svg onload="window.__xss=3">',
    "javascript:window.__xss=4",
    "<a href=javascript:window.__xss=5>click</a>",
]


def test_nothing_a_customer_or_a_colleague_writes_runs_in_the_console(
    served: tuple[ServerProcess, str, Any],
) -> None:
    """The corpus in every field the console shows: the conversation's id, the customer's
    messages, their name, page and files, the bot's sources, a note, a canned reply, a
    search. The pages are opened in Chromium, and none of it runs."""
    server, _, browser = served
    sender = "x<svg onload=window.__xss=6>"
    for text in XSS:
        metadata = {
            "visitor": {"name": XSS[0], "email": XSS[1]},
            "page": {"url": XSS[3], "title": XSS[2]},
        }
        httpx.post(
            f"{server.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=120,
        ).raise_for_status()
    context, admin = _signed_in(browser, server, ADMIN)
    ran: list[str] = []
    admin.on("dialog", lambda dialog: (ran.append(dialog.message), dialog.dismiss()))
    try:
        conversation = f"{server.url}/console/conversations/{quote(sender, safe='')}"
        admin.goto(conversation)
        admin.get_by_label("Note for the team").fill(" ".join(XSS) + " @ana")
        admin.get_by_role("button", name="Add note").click()
        admin.goto(f"{server.url}/console/canned")
        admin.get_by_label("Shortcut", exact=True).fill("xss")
        admin.get_by_label("Text", exact=True).fill(XSS[2])
        admin.get_by_role("button", name="Save").click()
        admin.goto(conversation)
        admin.get_by_label("Reply").fill(XSS[0])
        admin.get_by_role("button", name="Send").click()
        admin.locator(".transcript .person").first.wait_for()
        for path in (
            "/console/inbox",
            f"/console/inbox?search={quote(XSS[1])}",
            f"/console/inbox?customer={quote(XSS[0])}",
            "/console/canned",
            "/console/mentions",
            conversation.removeprefix(server.url),
        ):
            admin.goto(f"{server.url}{path}")
            admin.wait_for_load_state("load")
            assert admin.evaluate("() => window.__xss") is None, path
        # The corpus is there, as text.
        assert "window.__xss=2" in admin.locator(".transcript").inner_text()
        assert not admin.locator('a[href^="javascript:"]').count()
        assert ran == []
    finally:
        context.close()

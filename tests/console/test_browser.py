"""The console end to end in Debian's Chromium: a customer on the web chat asks for a
person, the conversation shows up in an agent's open inbox without a reload and the agent is
told a customer waits, the agent takes it over and answers from the keyboard, the customer
sees them typing and reads the answer, and after the hand-back the bot answers again."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.connectors.webchat.browser import served_assistant
from tests.server.process import ServerProcess

AGENT = "ana@example.com"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def served(
    assistant_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, str, Any]]:
    """The assistant with its web chat and console, a site that embeds the chat, a browser,
    and an agent's account."""
    root = tmp_path_factory.mktemp("console-browser")
    with served_assistant(assistant_models, root) as served:
        # As a business would, from a shell, while the assistant is running.
        add = ["console", "add-user", AGENT, "--role", "agent", "--project", str(REPO)]
        subprocess.run(
            [sys.executable, "-m", "parlez", *add, "--endpoints", str(root / "endpoints.yml")],
            env={**os.environ, "PARLEZ_CONSOLE_PASSWORD": PASSWORD},
            check=True,
            capture_output=True,
        )
        yield served


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
    agent_context = browser.new_context(viewport={"width": 1280, "height": 800})
    customer_context = browser.new_context(viewport={"width": 390, "height": 760})
    try:
        agent = agent_context.new_page()
        customer = customer_context.new_page()
        for page in (agent, customer):
            page.set_default_timeout(60_000)

        agent.goto(f"{server.url}/console/")
        agent.get_by_label("E-mail").fill(AGENT)
        agent.get_by_label("Password").fill(PASSWORD)
        agent.get_by_role("button", name="Sign in").click()
        agent.get_by_role("heading", name="Inbox").wait_for()

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
        agent.keyboard.press("?")
        shortcuts = agent.get_by_role("dialog", name="Keyboard shortcuts")
        shortcuts.wait_for()
        assert "Take over" in shortcuts.inner_text() and "Reply" in shortcuts.inner_text()
        shortcuts.get_by_role("button", name="Close").click()
        agent.keyboard.press("t")
        agent.get_by_role("button", name="Hand back").wait_for()
        agent.keyboard.press("r")
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

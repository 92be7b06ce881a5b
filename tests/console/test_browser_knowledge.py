"""The knowledge base and the catalogue taught from the console, end to end in Debian's
Chromium: a designer changes an answer of the assistant's FAQ, an owner a price, with nothing
but the browser, and the next customer on the web chat gets the new answer and the new
price, with no restart and no retraining."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from parlez.io.secrets import KEY_ENV, new_key
from tests.conftest import REPO
from tests.connectors.webchat.browser import served_assistant
from tests.console.conftest import signed_in_page
from tests.server.process import ServerProcess, add_console_user

DESIGNER = "dora@example.com"
OWNER = "olga@example.com"
PASSWORD = "a long enough password"
#: what the served copy of the assistant needs of the repository
PROJECT_FILES = ("actions", "connectors", "data", "domain.yml", "config.yml", "business.yml")


@pytest.fixture(scope="module")
def served(
    assistant_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, str, Any, Path]]:
    """A copy of the assistant (its files are changed here, never the repository's) served
    with its web chat and console, and a designer's account."""
    root = tmp_path_factory.mktemp("kb-browser")
    project = root / "project"
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            project.mkdir(exist_ok=True)
            shutil.copy(source, project / name)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, new_key())  # the settings page seals the secrets typed in
        with served_assistant(assistant_models, root, project=project) as served:
            server, site, browser = served
            add_console_user(project, root / "endpoints.yml", DESIGNER, "designer", PASSWORD)
            add_console_user(project, root / "endpoints.yml", OWNER, "owner", PASSWORD)
            yield server, site, browser, project


def customer_asks(browser: Any, site_url: str, question: str, answer: str) -> None:
    """A new visitor opens the web chat, asks `question` and reads `answer` in a reply."""
    context = browser.new_context(viewport={"width": 390, "height": 760})
    try:
        customer = context.new_page()
        customer.set_default_timeout(60_000)
        customer.goto(site_url)
        customer.locator(".launcher").click()
        customer.locator(".msg.bot").first.wait_for()
        box = customer.get_by_role("textbox")
        box.fill(question)
        box.press("Enter")
        customer.locator(".msg.bot", has_text=answer).wait_for()
    finally:
        context.close()


def test_an_answer_changed_in_the_console_is_what_the_next_customer_reads(
    served: tuple[ServerProcess, str, Any, Path],
) -> None:
    server, site_url, browser, project = served
    faq = project / "data" / "kb" / "faq.yml"
    before = faq.read_text(encoding="utf-8")
    designer_context, designer = signed_in_page(browser, server.url, DESIGNER, PASSWORD)
    try:
        designer.get_by_role("link", name="Knowledge base").click()
        designer.get_by_role("link", name="Is there parking nearby?").click()
        answer = designer.get_by_label("Answer", exact=True)
        assert "Maple Street car park" in answer.input_value()
        answer.fill("Park for free in the courtyard behind the studio.")
        designer.get_by_role("button", name="Save").click()
        designer.get_by_role("status").get_by_text("Saved").wait_for()

        # Only that line of the designer's file changed.
        lines = before.splitlines(), faq.read_text(encoding="utf-8").splitlines()
        assert len(lines[0]) == len(lines[1])
        assert sum(b != a for b, a in zip(*lines, strict=True)) == 1

        customer_asks(browser, site_url, "Is there parking nearby?", "courtyard behind")

        # The designer tries a question as a customer would ask it.
        designer.get_by_label("Try a question").fill("where can I park my car")
        designer.get_by_role("button", name="Ask").click()
        designer.get_by_role("heading", name="The assistant would answer").wait_for()
        assert "courtyard behind" in designer.locator(".answers").inner_text()
        # the hours' entry is answered from business.yml: the page says so
        designer.get_by_label("Try a question").fill("what are your opening hours?")
        designer.get_by_role("button", name="Ask").click()
        designer.get_by_role("heading", name="The assistant would answer").wait_for()
        assert "action_tell_hours" in designer.locator(".answers").inner_text()
    finally:
        designer_context.close()


def test_a_price_changed_on_the_business_page_is_what_the_next_customer_is_quoted(
    served: tuple[ServerProcess, str, Any, Path],
) -> None:
    server, site_url, browser, project = served
    settings = project.parent / "business.yml"  # the copy PARLEZ_BUSINESS names (served_assistant)
    before = settings.read_text(encoding="utf-8")
    owner_context, owner = signed_in_page(browser, server.url, OWNER, PASSWORD)
    try:
        owner.get_by_role("link", name="Business").click()
        owner.get_by_label("beard trim: price").fill("17")
        owner.get_by_role("button", name="Save").click()
        owner.get_by_role("status").get_by_text("Saved (1 change)").wait_for()
        assert settings.read_text(encoding="utf-8") == before.replace(
            "    duration: 20\n    price: 15\n", "    duration: 20\n    price: 17\n"
        )
        customer_asks(browser, site_url, "how much is a beard trim?", "Beard trim: €17")
    finally:
        owner_context.close()


def test_the_web_chat_look_is_previewed_saved_and_shown_to_the_next_visitor(
    served: tuple[ServerProcess, str, Any, Path],
) -> None:
    """The owner retitles the chat on the settings page: the widget in the page's corner
    shows it as typed, and after saving, a visitor on the business's site sees it."""
    server, site_url, browser, _ = served
    owner_context, owner = signed_in_page(browser, server.url, OWNER, PASSWORD)
    try:
        owner.get_by_role("link", name="Settings").click()
        owner.get_by_role("log", name="Maple Street Studio").wait_for()  # the preview, open
        owner.get_by_label("Title", exact=True).fill("Maple Street: book a chair")
        owner.get_by_role("log", name="Maple Street: book a chair").wait_for()
        owner.get_by_role("button", name="Save").click()
        owner.get_by_role("status").get_by_text("Saved (1 change)").wait_for()
    finally:
        owner_context.close()
    context = browser.new_context(viewport={"width": 390, "height": 760})
    try:
        visitor = context.new_page()
        visitor.set_default_timeout(60_000)
        visitor.goto(site_url)
        visitor.locator(".launcher").click()
        visitor.get_by_role("log", name="Maple Street: book a chair").wait_for()
    finally:
        context.close()


def test_a_secret_saved_in_the_settings_never_reaches_the_browser(
    served: tuple[ServerProcess, str, Any, Path],
) -> None:
    """Every response the owner's browser gets, from saving the SMTP password on, is read:
    the password is in none of them (nor its sealed form), and the file holds it sealed."""
    server, _, browser, project = served
    secret = "pw-7Qx!only-in-the-file"
    owner_context, owner = signed_in_page(browser, server.url, OWNER, PASSWORD)
    bodies: list[bytes] = []

    def read(reply: Any) -> None:
        # every page, fragment, script and JSON; not socket.io's long polls (left open)
        if reply.ok and reply.url.startswith(server.url) and "/socket.io/" not in reply.url:
            # one still in flight when the page closes never arrived: nothing to read
            with contextlib.suppress(PlaywrightError):
                bodies.append(reply.body())

    owner.on("response", read)
    try:
        owner.get_by_role("link", name="Settings").click()
        owner.get_by_role("group", name="E-mail").get_by_label("Password").fill(secret)
        owner.get_by_role("button", name="Save").click()
        owner.get_by_role("status").get_by_text("Saved (1 change)").wait_for()
        owner.reload()
        owner.get_by_text("Set (sealed in the file)").first.wait_for()
        owner.get_by_role("link", name="Audit log").click()
        owner.get_by_text("email.password (secret)").wait_for()
    finally:
        owner_context.close()
    business = (project.parent / "business.yml").read_text(encoding="utf-8")
    sealed = business.split("  password: ", 1)[1].split("\n", 1)[0]
    assert sealed.startswith("fernet:") and secret not in business
    assert bodies and not any(secret.encode() in b or sealed.encode() in b for b in bodies)


def test_a_response_is_previewed_with_the_web_chats_own_markdown(
    served: tuple[ServerProcess, str, Any, Path],
) -> None:
    """The preview beside a response's text draws it as the web chat will: bold, a list
    and a link, as typed, with nothing saved."""
    server, _, browser, project = served
    domain = (project / "domain.yml").read_text(encoding="utf-8")
    context, designer = signed_in_page(browser, server.url, DESIGNER, PASSWORD)
    try:
        designer.goto(f"{server.url}/console/responses/utter_greet")
        text = designer.locator("textarea[name^='text_']").first
        text.fill("**Welcome!** We can:\n\n- book you in\n- answer [prices](https://maple.example)")
        bubble = designer.locator(".preview .bubble").first
        bubble.locator("strong", has_text="Welcome!").wait_for()
        assert bubble.locator("li").all_inner_texts() == ["book you in", "answer prices"]
        assert bubble.locator("a").get_attribute("href") == "https://maple.example/"
        assert "**" not in bubble.inner_text()
    finally:
        context.close()
    assert (project / "domain.yml").read_text(encoding="utf-8") == domain

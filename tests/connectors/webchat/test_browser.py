"""The widget in a real Chromium, on a page of its own origin, talking to a real `parlez run`
with the trained assistant: open, greet, click, reload, go offline, upload, rate, hand over,
the XSS cases, a phone screen and right-to-left languages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.connectors.webchat.browser import served_assistant
from tests.server.process import ServerProcess, add_console_user

OWNER, PASSWORD = "olga@example.com", "a long enough password"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Setup:
    def __init__(self, server: ServerProcess, site_url: str, browser: Any, root: Path) -> None:
        self.server = server
        self.site = site_url
        self.browser = browser
        self.root = root

    def events(
        self, session: str, until: Callable[[list[dict[str, Any]]], bool] = lambda _: True
    ) -> list[dict[str, Any]]:
        """The conversation's stored events, once `until` holds for them: the widget shows a
        reply as soon as it is sent, a moment before the turn's events are stored."""
        deadline = time.monotonic() + 60
        while True:
            tracker = httpx.get(f"{self.server.url}/conversations/{session}/tracker").json()
            events: list[dict[str, Any]] = tracker["events"]
            if until(events) or time.monotonic() > deadline:
                return events
            time.sleep(0.1)

    def say_as_team(self, session: str, event: dict[str, Any]) -> None:
        reply = httpx.post(
            f"{self.server.url}/conversations/{session}/tracker/events",
            params={"execute_side_effects": "true", "output_channel": "latest"},
            json=event,
        )
        assert reply.status_code == 200, reply.text


@pytest.fixture(scope="module")
def setup(assistant_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("webchat-browser")
    with served_assistant(assistant_models, root, "--enable-api") as (server, site_url, browser):
        yield Setup(server, site_url, browser, root)


@pytest.fixture
def page(setup: Setup) -> Iterator[Any]:
    context = setup.browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def users_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "user"]


def said(events: list[dict[str, Any]], text: str) -> bool:
    return any(e["event"] == "user" and e.get("text") == text for e in events)


def session_of(page: Any) -> str:
    return str(
        page.evaluate(
            "() => JSON.parse(Object.entries(localStorage)"
            ".find(([k]) => k.endsWith(':session'))[1])"
        )
    )


def open_chat(page: Any, url: str) -> None:
    page.goto(url)
    page.locator(".launcher").click()
    page.locator(".msg.bot").first.wait_for()


def test_open_greet_click_a_button_and_see_the_history_after_a_reload(
    setup: Setup, page: Any
) -> None:
    page.goto(setup.site)
    launcher = page.locator(".launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    # The page's CSS does not reach into the widget.
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(47, 91, 234)"
    launcher.click()
    assert page.get_by_role("dialog").is_visible()
    greeting = page.locator(".msg.bot").first
    assert "Maple Street Studio" in greeting.inner_text()

    page.get_by_role("button", name="Opening hours").click()
    page.locator(".msg.user", has_text="Opening hours").wait_for()
    answer = page.locator(".msg.bot").nth(1)
    answer.wait_for()
    assert "Sources" in answer.inner_text()  # answered from the knowledge base

    page.reload()
    page.locator(".msg.bot").nth(1).wait_for()  # open again, history restored
    texts = page.locator(".msg").all_inner_texts()
    assert len(texts) == 3 and "Opening hours" in texts[1]
    assert sum("Maple Street Studio" in t for t in texts) == 1  # greeted once
    events = setup.events(session_of(page), until=lambda es: len(users_of(es)) == 2)
    users = users_of(events)
    assert [u["metadata"].get("hidden") for u in users] == [True, None]
    assert users[1]["metadata"]["page"]["url"].startswith(setup.site)


def test_messages_typed_offline_are_sent_once_when_back(setup: Setup, page: Any) -> None:
    open_chat(page, setup.site)
    page.context.set_offline(True)
    page.locator(".note", has_text="offline").wait_for()
    box = page.get_by_role("textbox")
    box.fill("how much is a haircut?")
    box.press("Enter")
    mine = page.locator(".msg.user", has_text="how much is a haircut?")
    assert "Waiting for the connection" in mine.inner_text()
    page.context.set_offline(False)
    page.locator(".msg.bot").nth(1).wait_for()
    assert "Waiting" not in mine.inner_text()
    events = setup.events(session_of(page), until=lambda es: said(es, "how much is a haircut?"))
    users = users_of(events)
    assert [u["text"] for u in users].count("how much is a haircut?") == 1


def test_a_picture_is_uploaded_and_a_wrong_file_refused(
    setup: Setup, page: Any, tmp_path: Path
) -> None:
    open_chat(page, setup.site)
    picture = tmp_path / "my hair.png"
    picture.write_bytes(PNG)
    page.locator("input[type=file]").set_input_files(str(picture))
    image = page.locator(".msg.user img")
    image.wait_for()
    assert image.get_attribute("src").startswith(setup.server.url + "/webchat/files/")
    page.locator(".msg.bot", has_text="got your file").wait_for()
    assert list((setup.root / "uploads").glob("*.png"))

    fake = tmp_path / "invoice.pdf"
    fake.write_text("<html><script>alert(1)</script></html>")
    page.locator("input[type=file]").set_input_files(str(fake))
    page.locator(".note", has_text="not accepted").wait_for()


def test_a_refused_files_note_stays_when_the_answer_to_the_message_before_comes_late(
    setup: Setup, page: Any, tmp_path: Path
) -> None:
    """A passing note lasts until the visitor does something next: the server's answer to the
    message before (which may come after the refusal under load) does not reset it."""
    open_chat(page, setup.site)
    picture = tmp_path / "my hair.png"
    picture.write_bytes(PNG)
    fake = tmp_path / "invoice.pdf"
    fake.write_text("<html><script>alert(1)</script></html>")
    page.locator("input[type=file]").set_input_files(str(picture))
    page.locator(".msg.user img").wait_for()
    page.locator("input[type=file]").set_input_files(str(fake))
    note = page.locator(".note", has_text="not accepted")
    note.wait_for()
    page.locator(".msg.bot", has_text="got your file").wait_for()
    # the server's answer to the picture's message has come: it no longer says "Sending…"
    page.locator(".msg.user .meta", has_text="Sending").wait_for(state="hidden")
    assert note.is_visible()
    box = page.get_by_role("textbox")
    box.fill("thanks")
    box.press("Enter")
    note.wait_for(state="hidden")


def test_the_visitor_rates_the_chat_and_gets_a_copy_when_it_ends(setup: Setup, page: Any) -> None:
    open_chat(page, setup.site)
    page.get_by_role("button", name="Opening hours").click()
    page.locator(".sources").wait_for()
    page.get_by_role("button", name="End the chat").click()
    page.get_by_role("radio", name="4 out of 5").click()
    page.get_by_role("textbox", name="Anything to add").fill("Quick and clear")
    page.get_by_role("textbox", name="E-mail me a copy").fill("visitor@example.com")
    page.get_by_role("button", name="Send rating").click()
    page.get_by_text("Thank you for your rating!").wait_for()
    page.get_by_text("A copy is on its way to visitor@example.com.").wait_for()
    session = session_of(page)
    events = setup.events(session, until=lambda es: any(e["event"] == "feedback" for e in es))
    rated = [e for e in events if e["event"] == "feedback"]
    assert [(e["rating"], e["comment"]) for e in rated] == [(4, "Quick and clear")]
    (copy,) = [
        m
        for m in (p.read_text() for p in (setup.root / "mail").glob("*.eml"))
        if "To: visitor@example.com" in m
    ]
    assert "Your conversation with Maple Street Studio" in copy
    assert "Customer: Opening hours" in copy and "Assistant: Our opening hours:" in copy
    page.get_by_role("button", name="Start a new conversation").click()
    page.locator(".msg.bot").first.wait_for()
    assert session_of(page) != session


def test_a_person_taking_over_is_shown(setup: Setup, page: Any) -> None:
    open_chat(page, setup.site)
    page.get_by_role("button", name="Talk to a person").click()
    page.locator(".note.human").wait_for()
    setup.say_as_team(session_of(page), {"event": "bot", "text": "Hi, Ana here. How can I help?"})
    human = page.locator(".msg.bot.human", has_text="Ana here")
    human.wait_for()
    assert "Team" in human.inner_text()


XSS = "<img src=x onerror=\"window.__xss='text'\">"


def test_nothing_in_a_message_runs_as_code(setup: Setup, page: Any) -> None:
    open_chat(page, setup.site)
    box = page.get_by_role("textbox")
    box.fill(XSS)
    box.press("Enter")
    page.locator(".msg.user", has_text="<img src=x").wait_for()
    setup.say_as_team(
        session_of(page),
        {
            "event": "bot",
            "text": f"{XSS} **bold** [click](javascript:window.__xss='link') "
            "[site](https://example.com/a)",
            "data": {
                "buttons": [
                    {"title": "<img src=x onerror=\"window.__xss='button'\">", "payload": "/greet"}
                ],
                "image": "javascript:window.__xss='image'",
            },
        },
    )
    message = page.locator(".msg.bot", has_text="bold").last
    message.wait_for()
    message.get_by_role("button").click()
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
    assert message.locator("strong").inner_text() == "bold"
    assert message.locator("a").count() == 1  # only the https link is a link
    link = message.locator("a")
    assert link.get_attribute("href") == "https://example.com/a"
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")
    assert "<img src=x" in message.inner_text()


def test_on_a_phone_the_chat_fills_the_screen(setup: Setup) -> None:
    context = setup.browser.new_context(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    open_chat(page, setup.site)
    box = page.get_by_role("dialog").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 667)
    page.get_by_role("button", name="Close the chat").click()
    assert page.locator(".launcher").is_visible()
    context.close()


@pytest.mark.parametrize(("language", "send"), [("ar", "إرسال"), ("he", "שליחה")])
def test_arabic_and_hebrew_are_laid_out_right_to_left(
    setup: Setup, page: Any, language: str, send: str
) -> None:
    page.goto(f"{setup.site}/?language={language}&open=true")
    root = page.locator(".root")
    root.wait_for()
    assert root.get_attribute("dir") == "rtl"
    assert page.get_by_role("button", name=send, exact=True).is_visible()


@pytest.mark.parametrize(
    ("language", "send"), [("fr", "Envoyer"), ("de", "Senden"), ("es", "Enviar")]
)
def test_the_interface_speaks_the_visitors_language(
    setup: Setup, page: Any, language: str, send: str
) -> None:
    page.goto(f"{setup.site}/?language={language}&open=true")
    assert page.locator(".root").get_attribute("dir") == "ltr"
    assert page.get_by_role("button", name=send, exact=True).is_visible()


def test_the_keyboard_alone_opens_writes_and_closes(setup: Setup, page: Any) -> None:
    page.goto(setup.site)
    page.locator(".launcher").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.tagName") == "DIV"  # the widget's host
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    page.locator(".msg.user", has_text="hello").wait_for()
    page.keyboard.press("Escape")
    assert not page.get_by_role("dialog").is_visible()
    assert page.locator(".launcher").evaluate("b => b.getRootNode().activeElement === b")


def test_a_page_on_another_origin_gets_no_chat(setup: Setup, page: Any) -> None:
    # The chat server's own address is allowed, 'localhost' on another port is not.
    other = setup.site.replace("127.0.0.1", "localhost")
    page.goto(other)
    page.locator(".launcher").click()
    page.wait_for_timeout(1500)
    assert page.locator(".msg").count() == 0


def test_the_pre_chat_form_comes_first_and_its_details_go_with_each_message(
    setup: Setup, page: Any
) -> None:
    page.goto(f"{setup.site}/?prechat=true")
    page.locator(".launcher").click()
    assert page.locator(".msg").count() == 0  # the greeting waits for the form
    page.get_by_role("textbox", name="Name").fill("Ana Lima")
    page.get_by_role("textbox", name="E-mail").fill("ana@example.com")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Start the chat").click()
    page.locator(".msg.bot").first.wait_for()  # greeted once the form is done
    box = page.get_by_role("textbox", name="Type your message")
    box.fill("thanks")
    box.press("Enter")
    page.locator(".msg.bot").nth(1).wait_for()
    events = setup.events(session_of(page), until=lambda es: said(es, "thanks"))
    users = users_of(events)
    assert [u["text"] for u in users] == ["/greet", "thanks"]
    for user in users:
        assert user["metadata"]["visitor"] == {
            "name": "Ana Lima",
            "email": "ana@example.com",
            "consent": True,
        }
        assert user["metadata"]["timezone"] and user["metadata"]["language"]


def test_the_page_names_the_visitor_and_follows_the_chat_through_its_javascript_api(
    setup: Setup, page: Any
) -> None:
    """`ParlezChat.setUser` stands for the pre-chat form (a signed-in customer), and
    `ParlezChat.on` tells the page what the chat does; a handler that throws does not stop
    the chat."""
    page.goto(f"{setup.site}/?prechat=true")
    page.evaluate(
        """() => {
        window.seen = [];
        ParlezChat.on("open", () => seen.push("open"));
        ParlezChat.on("close", () => seen.push("close"));
        ParlezChat.on("message", (m) => seen.push(m.from + ": " + m.text));
        ParlezChat.on("message", () => { throw new Error("a page's bug"); });
      }"""
    )
    page.locator(".launcher").click()
    assert page.get_by_role("button", name="Start the chat").is_visible()
    page.evaluate("() => ParlezChat.setUser({name: 'Ana Lima', email: 'ana@example.com'})")
    page.locator(".msg.bot").first.wait_for()  # greeted: the form is no longer needed
    assert not page.get_by_role("button", name="Start the chat").is_visible()
    box = page.get_by_role("textbox", name="Type your message")
    box.fill("thanks")
    box.press("Enter")
    page.locator(".msg.bot").nth(1).wait_for()
    page.evaluate("() => ParlezChat.close()")
    seen = page.evaluate("() => seen")
    assert seen[0] == "open" and seen[-1] == "close"
    assert "visitor: thanks" in seen
    assert any(s.startswith("bot: ") for s in seen[seen.index("visitor: thanks") :])
    events = setup.events(session_of(page), until=lambda es: said(es, "thanks"))
    for user in users_of(events):
        assert user["metadata"]["visitor"] == {"name": "Ana Lima", "email": "ana@example.com"}


def test_messages_that_arrive_while_closed_are_counted_on_the_launcher(
    setup: Setup, page: Any
) -> None:
    open_chat(page, setup.site)
    page.locator(".head").get_by_role("button", name="Close the chat").click()
    session = session_of(page)
    setup.say_as_team(session, {"event": "bot", "text": "Are you still there?"})
    setup.say_as_team(
        session,
        {
            "event": "bot",
            "data": {
                "elements": [
                    {
                        "title": "<b onclick=alert(1)>Haircut</b>",
                        "subtitle": "45 minutes, 40 EUR",
                        "image_url": "javascript:alert(1)",
                        "buttons": [{"title": "Book it", "payload": "/book_appointment"}],
                    }
                ]
            },
        },
    )
    badge = page.locator(".badge")
    badge.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-parlez-chat]').shadowRoot"
        ".querySelector('.badge').textContent === '2'"
    )
    assert "2 new messages" in page.locator(".launcher").get_attribute("aria-label")
    page.locator(".launcher").click()
    assert not badge.is_visible()
    card = page.locator(".card")
    assert card.locator("b").inner_text() == "<b onclick=alert(1)>Haircut</b>"
    assert card.locator("img").count() == 0  # a javascript: image is not shown
    card.get_by_role("button", name="Book it").click()
    page.locator(".msg.bot", has_text="Which service").wait_for()


def test_a_purchase_the_page_reports_counts_after_the_visitors_chat(
    setup: Setup, page: Any
) -> None:
    """The business's thank-you page calls `ParlezChat.track`: the purchase is tied to the
    visitor's chat and shows in the console's ROI report, once however often the page loads."""
    page.goto(setup.site)
    page.locator(".launcher").click()
    page.get_by_role("button", name="Opening hours").click()
    page.locator(".msg.bot").nth(1).wait_for()
    track = "ParlezChat.track('purchase', {value: 89.5, currency: 'EUR', order_id: 'B-77'})"
    page.evaluate(track)
    page.reload()  # the thank-you page loaded again
    page.locator(".msg.bot").nth(1).wait_for()
    page.evaluate(track)
    with pytest.raises(Exception, match="an event is a name"):
        page.evaluate("ParlezChat.track('Bought!')")
    add_console_user(REPO, setup.root / "endpoints.yml", OWNER, "viewer", PASSWORD)
    with httpx.Client(base_url=setup.server.url, timeout=60) as console:
        assert console.post(
            "/console/login", data={"email": OWNER, "password": PASSWORD}
        ).is_redirect
        deadline = time.monotonic() + 120
        while True:
            report = console.get("/console/reports/roi.json").json()
            if report["conversions_after_chat"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert report["conversions_after_chat"] == 1, report
    assert report["value_after_chat"] == {"EUR": 89.5}
    assert report["visitors"] >= 1 and report["chatters"] >= 1

"""Signing in to the console, and a role check and CSRF on every route."""

from __future__ import annotations

import pytest

from parlez.console.auth import ATTEMPTS, COOKIE
from parlez.console.roles import Capability, Role, may
from parlez.events import UserUttered
from tests.console.conftest import PASSWORD, Console, email

pytestmark = pytest.mark.anyio

#: every console route, the capability it needs, and whether it changes anything
ROUTES = [
    ("GET", "/console/inbox", Capability.READ),
    ("GET", "/console/conversations/visitor", Capability.READ),
    ("GET", "/console/audit", Capability.AUDIT),
    ("GET", "/console/reports", Capability.REPORTS),
    ("GET", "/console/reports.json", Capability.REPORTS),
    ("GET", "/console/reports.csv", Capability.REPORTS),
    ("GET", "/console/reports/rules", Capability.SETTINGS),
    ("GET", "/console/reports/experiments", Capability.REPORTS),
    ("GET", "/console/reports/questions.json", Capability.REPORTS),
    ("GET", "/console/reports/questions.csv", Capability.REPORTS),
    ("GET", "/console/reports/experiments/edit", Capability.SETTINGS),
    ("POST", "/console/reports/experiments/edit", Capability.SETTINGS),
    ("POST", "/console/reports/rules", Capability.SETTINGS),
    ("GET", "/console/customers", Capability.READ),
    ("GET", "/console/customers.csv", Capability.SETTINGS),
    ("GET", "/console/customers/1", Capability.READ),
    ("POST", "/console/customers/1/merge", Capability.ANSWER),
    ("POST", "/console/customers/merges/1/undo", Capability.ANSWER),
    ("POST", "/console/customers/sync", Capability.SETTINGS),
    ("POST", "/console/customers/2/forget", Capability.SETTINGS),
    ("POST", "/console/conversations/visitor/take-over", Capability.ANSWER),
    ("POST", "/console/conversations/visitor/reply", Capability.ANSWER),
    ("POST", "/console/conversations/visitor/hand-back", Capability.ANSWER),
    ("POST", "/console/conversations/visitor/resolve", Capability.ANSWER),
    ("POST", "/console/conversations/visitor/labels", Capability.ANSWER),
    ("POST", "/console/conversations/visitor/labels/vip/remove", Capability.ANSWER),
    ("POST", "/console/conversations/visitor/notes", Capability.ANSWER),
    ("POST", "/console/conversations/visitor/assign", Capability.ANSWER),
    ("GET", "/console/mentions", Capability.READ),
    ("GET", "/console/canned", Capability.ANSWER),
    ("POST", "/console/canned", Capability.SETTINGS),
    ("POST", "/console/canned/1/delete", Capability.SETTINGS),
    ("GET", "/console/conversations/visitor/presence", Capability.READ),
    ("POST", "/console/conversations/visitor/presence", Capability.READ),
    ("GET", "/console/teams", Capability.ANSWER),
    ("POST", "/console/teams", Capability.SETTINGS),
    ("POST", "/console/teams/hi/delete", Capability.SETTINGS),
    ("GET", "/console/account", Capability.READ),
    ("POST", "/console/account/tokens", Capability.READ),
    ("POST", "/console/account/tokens/1/revoke", Capability.READ),
    ("POST", "/console/logout", Capability.READ),
    ("GET", "/console/knowledge", Capability.TEACH),
    ("GET", "/console/knowledge/new", Capability.TEACH),
    ("GET", "/console/knowledge/try", Capability.TEACH),
    ("GET", "/console/knowledge/unanswered", Capability.TEACH),
    ("GET", "/console/reports/roi", Capability.REPORTS),
    ("GET", "/console/reports/questions", Capability.REPORTS),
    ("POST", "/console/reports/questions/post", Capability.SETTINGS),
    ("GET", "/console/reports/roi.json", Capability.REPORTS),
    ("GET", "/console/review", Capability.TEACH),
    ("GET", "/console/review/visitor/{at}", Capability.TEACH),
    ("GET", "/console/review/visitor/{at}/example?intent=greet", Capability.TEACH),
    ("POST", "/console/review/visitor/{at}/example", Capability.TEACH),
    ("GET", "/console/review/visitor/{at}/action?action=utter_greet", Capability.TEACH),
    ("POST", "/console/review/visitor/{at}/action", Capability.TEACH),
    ("POST", "/console/review/visitor/{at}/reviewed", Capability.TEACH),
    ("GET", "/console/conversations/visitor/test-story", Capability.TEACH),
    ("POST", "/console/conversations/visitor/test-story", Capability.TEACH),
    ("GET", "/console/models", Capability.TEACH),
    ("GET", "/console/models/retraining", Capability.TEACH),
    ("GET", "/console/models/stories", Capability.TEACH),
    ("POST", "/console/models/use", Capability.TEACH),
    ("POST", "/console/models/retrain", Capability.TEACH),
    ("GET", "/console/responses", Capability.TEACH),
    ("GET", "/console/responses/utter_greet", Capability.TEACH),
    ("POST", "/console/responses/utter_greet", Capability.TEACH),
    ("GET", "/console/business", Capability.SETTINGS),
    ("GET", "/console/settings", Capability.SETTINGS),
    ("POST", "/console/settings", Capability.SETTINGS),
    ("POST", "/console/business", Capability.SETTINGS),
    ("GET", "/console/business/services/haircut", Capability.SETTINGS),
    ("POST", "/console/business/services/haircut", Capability.SETTINGS),
    ("GET", "/console/knowledge/entries/hours", Capability.TEACH),
    ("GET", "/console/knowledge/pages/about.md", Capability.TEACH),
    ("POST", "/console/knowledge/pages/about.md", Capability.TEACH),
    ("POST", "/console/knowledge/pages", Capability.TEACH),
    ("POST", "/console/knowledge/pages/about.md/delete", Capability.TEACH),
    ("GET", "/console/knowledge/export/csv", Capability.TEACH),
    ("POST", "/console/knowledge/import", Capability.TEACH),
    ("POST", "/console/knowledge/entries", Capability.TEACH),
    ("POST", "/console/knowledge/entries/hours", Capability.TEACH),
    ("POST", "/console/knowledge/entries/hours/delete", Capability.TEACH),
]


#: routes that answer 409 to a role allowed to use them when marketing.yml does not set up
#: what they use
UNCONFIGURED = {"/console/customers/sync", "/console/reports/questions/post"}


async def test_the_walk_covers_every_console_route(console: Console) -> None:
    """A new route is added to ROUTES, so that its role check is walked too."""
    open_to_all = {
        "console",
        "console/login",
        "console/static/<name:str>",
        "console/sso/start",
        "console/sso/callback",
        # Mailchimp's webhook: the secret in its address is the check (test_audience.py)
        "console/marketing/mailchimp/<secret:str>",
        # a follow-up's unsubscribe link: its token is the check (test_follow_ups.py)
        "console/unsubscribe/<token:str>",
    }
    # a stream that every role may read: a stranger's refusal is pinned below
    streams = {"console/inbox/live"}
    served = {
        "/" + route.path.rstrip("/")
        for route in console.app.router.routes
        if route.path.startswith("console") and route.path.rstrip("/") not in open_to_all | streams
    }
    walked = {
        path.replace("/visitor", "/<conversation_id:str>")
        .replace("/vip/", "/<label:str>/")
        .replace("tokens/1/", "tokens/<token_id:int>/")
        .replace("teams/hi/", "teams/<name:str>/")
        .replace("customers/merges/1/", "customers/merges/<merge_id:int>/")
        .replace("customers/1/", "customers/<contact_id:int>/")
        .replace("customers/2/", "customers/<contact_id:int>/")
        .replace("/1/", "/<canned_id:int>/")
        .replace("entries/hours", "entries/<entry_id:str>")
        .replace("responses/utter_greet", "responses/<name:str>")
        .replace("pages/about.md", "pages/<name:path>")
        .replace("export/csv", "export/<kind:str>")
        .replace("business/services/haircut", "business/<kind:str>/<name:str>")
        .replace("{at}", "<at:str>")
        .split("?")[0]
        .replace("customers/1", "customers/<contact_id:int>")
        for _, path, _ in ROUTES
    }
    assert served == walked


async def test_a_right_password_opens_a_session_in_an_http_only_strict_cookie(
    console: Console,
) -> None:
    _, reply = await console.app.asgi_client.post(
        "/console/login", data={"email": email(Role.AGENT), "password": PASSWORD}
    )
    assert reply.status == 303 and reply.headers["location"] == "/console/inbox"
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie


async def test_a_wrong_password_and_an_unknown_address_read_the_same(console: Console) -> None:
    for address in (email(Role.AGENT), "nobody@example.com"):
        _, reply = await console.app.asgi_client.post(
            "/console/login", data={"email": address, "password": "wrong password"}
        )
        assert reply.status == 401 and "Wrong e-mail address or password" in reply.text
        assert COOKIE not in reply.cookies


async def test_sign_ins_stop_after_too_many_failures_even_with_the_right_password(
    console: Console,
) -> None:
    for _ in range(ATTEMPTS):
        await console.app.asgi_client.post(
            "/console/login", data={"email": email(Role.VIEWER), "password": "guess"}
        )
    _, reply = await console.app.asgi_client.post(
        "/console/login", data={"email": email(Role.VIEWER), "password": PASSWORD}
    )
    assert reply.status == 429


async def test_pages_send_a_stranger_to_sign_in_and_refuse_changes(console: Console) -> None:
    for method, walked, _ in ROUTES:
        path = walked.format(at=1.0)
        if method == "GET":
            _, reply = await console.app.asgi_client.get(path)
            assert reply.status == 302 and reply.headers["location"].startswith("/console/login")
        else:
            _, reply = await console.app.asgi_client.post(path, data={})
            assert reply.status == 401, path
    _, feed = await console.app.asgi_client.get("/console/inbox/live")
    assert feed.status == 302


@pytest.mark.parametrize("role", list(Role))
async def test_every_route_checks_the_role(console: Console, role: Role) -> None:
    await console.customer_says("visitor", "hello")
    await console.customer_says("visitor-2", "hello")  # a second customer to merge
    tracker = await console.app.ctx.state.agent.retrieve("visitor")
    said = next(e for e in tracker.events if isinstance(e, UserUttered))
    browser = await console.sign_in(role)
    page = console.app.ctx.state.project / "data" / "kb" / "about.md"
    page.write_text("# About\n\nA studio.\n", encoding="utf-8")
    for method, walked, capability in ROUTES:
        path = walked.format(at=repr(said.timestamp))
        if path == "/console/logout":
            continue  # signs this browser out: checked on its own
        if method == "GET":
            reply = await browser.get(path)
        elif path.endswith("/import"):
            _, reply = await console.app.asgi_client.post(
                path,
                data={"csrf": browser.csrf},
                files={"file": ("more.csv", b"question,answer\nGift cards?,Yes.\n", "text/csv")},
                headers=browser._cookie(),
            )
        else:
            form = {"text": "hi", "label": "vip", "note": "hi", "shortcut": "hi", "name": "hi"}
            form |= {"question": "Open on Sundays?", "answer": "No.", "intent": "greet"}
            form |= {"model": console.app.ctx.state.agent.model.name, "title": "Our team"}
            form |= {"action": "utter_greet", "other": "2", "confirm": "yes"}
            if path == "/console/reports/rules":  # a whole analytics.yml, checked as such
                form["text"] = "timezone: UTC\n"
            if path == "/console/reports/experiments/edit":  # a whole experiments.yml
                form["text"] = "experiments: {}\n"
            reply = await browser.post(path, {**form, "assignee": email(Role.AGENT)})
        allowed = may(role, capability)
        if path in UNCONFIGURED and reply.status == 409:
            continue  # let through, and no e-mail platform or Facebook Page here
        assert (reply.status < 400) == allowed, (role, path, reply.status)
        if not allowed:
            assert reply.status == 403


async def test_a_change_without_the_csrf_token_is_refused(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    browser = await console.sign_in(Role.AGENT)
    reply = await browser.post("/console/conversations/visitor/take-over", csrf=False)
    assert reply.status == 403
    tracker = await console.app.ctx.state.agent.retrieve("visitor")
    assert not tracker.is_paused()


async def test_signing_out_ends_the_session(console: Console) -> None:
    browser = await console.sign_in(Role.AGENT)
    assert (await browser.post("/console/logout")).status == 303
    assert (await browser.get("/console/inbox")).status == 302


async def test_a_sign_in_goes_back_only_to_a_console_page(console: Console) -> None:
    for wanted, expected in (
        ("/console/conversations/x", "/console/conversations/x"),
        ("https://evil.example/", "/console/inbox"),
        ("//evil.example/console/", "/console/inbox"),
    ):
        _, reply = await console.app.asgi_client.post(
            "/console/login",
            data={"email": email(Role.AGENT), "password": PASSWORD, "next": wanted},
        )
        assert reply.headers["location"] == expected


async def test_the_consoles_own_files_are_served_and_nothing_else(console: Console) -> None:
    _, css = await console.app.asgi_client.get("/console/static/console.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    _, other = await console.app.asgi_client.get("/console/static/database.py")
    assert other.status == 404

"""Personal API tokens: a script works with the console as its user, with that user's role,
until the token is revoked; the token itself is shown once and never kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from parlez.console.models import api_tokens, audit_log
from parlez.console.roles import Role
from parlez.console.tokens import PREFIX
from tests.console.conftest import Browser, Console

pytestmark = pytest.mark.anyio


async def make_token(browser: Browser, name: str = "nightly export") -> str:
    page = await browser.post("/console/account/tokens", {"name": name})
    assert page.status == 201, page.text
    found = re.search(r'id="new-token" class="token" readonly value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def as_script(console: Console, token: str, method: str, path: str, **data: str) -> Any:
    headers = {"authorization": f"Bearer {token}"}
    if method == "GET":
        _, reply = await console.app.asgi_client.get(path, headers=headers)
    else:
        _, reply = await console.app.asgi_client.post(path, data=data, headers=headers)
    return reply


async def test_a_token_reads_the_inbox_and_a_conversation_as_json(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    token = await make_token(await console.sign_in(Role.VIEWER))
    assert token.startswith(PREFIX)
    inbox = await as_script(console, token, "GET", "/console/inbox")
    assert inbox.status == 200
    assert [row["sender_id"] for row in inbox.json["conversations"]] == ["visitor"]
    page = await as_script(console, token, "GET", "/console/conversations/visitor")
    assert page.json["conversation"]["status"] == "bot"
    assert page.json["messages"][0] == {**page.json["messages"][0], "text": "hello"}


async def test_a_token_answers_a_customer_without_a_csrf_token(console: Console) -> None:
    """CSRF guards a browser's cookie; a token is sent by the script itself."""
    await console.customer_says("visitor", "hello")
    token = await make_token(await console.sign_in(Role.AGENT))
    replied = await as_script(
        console, token, "POST", "/console/conversations/visitor/reply", text="A person here."
    )
    assert replied.status == 200, replied.text
    assert replied.json["conversation"]["status"] == "human"
    assert replied.json["conversation"]["assignee"] == "agent@example.com"
    tracker = await console.app.ctx.state.agent.retrieve("visitor")
    assert tracker.is_paused()
    assert tracker.events[-1].metadata["sent_by"] == "agent@example.com"


async def test_a_token_has_its_users_role_and_no_more(console: Console) -> None:
    await console.customer_says("visitor", "hello")
    token = await make_token(await console.sign_in(Role.VIEWER))
    refused = await as_script(console, token, "POST", "/console/conversations/visitor/take-over")
    assert refused.status == 403 and "viewer" in refused.json["error"]
    assert not (await console.app.ctx.state.agent.retrieve("visitor")).is_paused()


async def test_a_revoked_or_made_up_token_is_refused_with_json(console: Console) -> None:
    browser = await console.sign_in(Role.AGENT)
    token = await make_token(browser)
    assert (await as_script(console, token, "GET", "/console/inbox")).status == 200
    account = await browser.get("/console/account")
    token_id = re.search(r"/console/account/tokens/(\d+)/revoke", account.text)
    assert token_id is not None
    assert (await browser.post(f"/console/account/tokens/{token_id.group(1)}/revoke")).status == 303
    for presented in (token, PREFIX + "made-up", "not even ours"):
        refused = await as_script(console, presented, "GET", "/console/inbox")
        assert refused.status == 401 and refused.json["error"] == "unknown or revoked token"


async def test_only_the_hash_is_kept_and_the_page_never_shows_the_token_again(
    console: Console,
) -> None:
    browser = await console.sign_in(Role.ADMIN)
    token = await make_token(browser, "crm sync")
    async with console.database.engine.connect() as connection:
        kept = (await connection.execute(select(api_tokens))).one()
        logged = (await connection.execute(select(audit_log.c.detail))).scalars().all()
    assert token not in (kept.token_hash, kept.hint) and kept.hint == token[-4:]
    assert not any(token in entry for entry in logged)
    account = await browser.get("/console/account")
    assert "crm sync" in account.text and token not in account.text


async def test_a_token_cannot_make_tokens_or_revoke_anothers(console: Console) -> None:
    own = await make_token(await console.sign_in(Role.AGENT))
    other = await console.sign_in(Role.ADMIN)
    await make_token(other, "admin's")
    made = await as_script(console, own, "POST", "/console/account/tokens", name="successor")
    assert made.status == 403
    # token 2 is the admin's: the agent holds no such token
    revoked = await as_script(console, own, "POST", "/console/account/tokens/2/revoke")
    assert revoked.status == 404
    async with console.database.engine.connect() as connection:
        names = (await connection.execute(select(api_tokens.c.name))).scalars().all()
    assert sorted(names) == ["admin's", "nightly export"]


async def test_a_token_needs_a_name(console: Console) -> None:
    browser = await console.sign_in(Role.AGENT)
    reply = await browser.post("/console/account/tokens", {"name": "   "})
    assert reply.status == 400 and "name" in reply.json["error"]

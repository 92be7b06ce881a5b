"""Single sign-on with OpenID Connect, against a provider the tests run on 127.0.0.1: a
person signs in at the business's identity provider, and their role comes from a claim."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from parlez.console.auth import COOKIE
from parlez.console.models import audit_log, users
from parlez.console.roles import Role
from parlez.console.signin import PENDING_COOKIE
from parlez.console.sso import SingleSignOn
from parlez.endpoints import Endpoints
from parlez.exceptions import SchemaError
from tests.console.conftest import Console, database_url, make_console
from tests.console.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

pytestmark = pytest.mark.anyio


def settings(issuer: str, **more: Any) -> dict[str, Any]:
    return {
        "sso": {
            "issuer": issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "role_claim": "groups",
            "roles": {"support": "agent", "support-leads": "admin"},
            "label": "Sign in with Shop ID",
            **more,
        }
    }


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
async def console(
    small_model: Path, tmp_path: Path, request: pytest.FixtureRequest, provider: Provider
) -> AsyncIterator[Console]:
    endpoints = Endpoints(console=settings(provider.issuer))
    made = await make_console(
        small_model, database_url(request.param, request, tmp_path), endpoints
    )
    yield made
    await made.close()


async def sign_on(console: Console, then: str = "/console/inbox") -> Any:
    """A browser's whole trip: to the provider, and back with the code."""
    _, start = await console.app.asgi_client.get(f"/console/sso/start?next={then}")
    assert start.status == 303, start.text
    pending = start.cookies[PENDING_COOKIE]
    async with httpx.AsyncClient() as http:
        at_provider = await http.get(start.headers["location"])
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/console/sso/callback"
    _, reply = await console.app.asgi_client.get(
        f"{back.path}?{back.query}", headers={"cookie": f"{PENDING_COOKIE}={pending}"}
    )
    return reply


async def user_row(console: Console, address: str) -> Any:
    async with console.database.engine.connect() as connection:
        return (await connection.execute(select(users).where(users.c.email == address))).first()


async def test_a_person_signs_on_with_the_role_their_group_maps_to(
    console: Console, provider: Provider
) -> None:
    reply = await sign_on(console, "/console/mentions")
    # A page of the console's own moves on: a redirect would still be the provider's
    # cross-site navigation, and the browser would hold back the SameSite=Strict cookie.
    assert reply.status == 200
    assert '<meta http-equiv="refresh" content="0;url=/console/mentions">' in reply.text
    _, inbox = await console.app.asgi_client.get(
        "/console/inbox", headers={"cookie": f"{COOKIE}={reply.cookies[COOKIE]}"}
    )
    assert inbox.status == 200 and "ana@shop.example (agent)" in inbox.text
    row = await user_row(console, "ana@shop.example")
    assert (row.role, row.name) == ("agent", "Ana Lima")
    # the code was traded with the PKCE verifier (the provider checks it against the challenge)
    assert provider.token_requests[0]["code_verifier"]
    async with console.database.engine.connect() as connection:
        actions = (await connection.execute(select(audit_log.c.action))).scalars().all()
    assert "sign_in_sso" in actions


async def test_the_role_follows_the_provider_at_each_sign_on(
    console: Console, provider: Provider
) -> None:
    assert COOKIE in (await sign_on(console)).cookies
    provider.person["groups"] = ["support", "support-leads"]
    assert COOKIE in (await sign_on(console)).cookies
    assert (await user_row(console, "ana@shop.example")).role == "admin"


async def test_a_person_whose_groups_map_to_no_role_is_refused(
    console: Console, provider: Provider
) -> None:
    provider.person["groups"] = ["sales"]
    reply = await sign_on(console)
    assert reply.status == 403 and "has no role in this console" in reply.text
    assert COOKIE not in reply.cookies
    assert await user_row(console, "ana@shop.example") is None


@pytest.mark.parametrize(
    "tampered",
    [
        {"aud": "another-client"},
        {"iss": "https://evil.example"},
        {"nonce": "replayed"},
        {"exp": int(time.time()) - 600},
        {"email_verified": False},
        "signed with a key the provider does not publish",
    ],
)
async def test_an_id_token_that_does_not_check_out_signs_no_one_in(
    console: Console, provider: Provider, tampered: dict[str, Any] | str
) -> None:
    if isinstance(tampered, dict):
        provider.tampered = tampered
    else:
        provider.foreign_key = True
    reply = await sign_on(console)
    assert reply.status == 401 and COOKIE not in reply.cookies
    assert await user_row(console, "ana@shop.example") is None


async def test_a_callback_this_browser_did_not_start_is_refused(
    console: Console, provider: Provider
) -> None:
    """Login CSRF: someone else's code, sent to this browser, never signs it in."""
    _, started = await console.app.asgi_client.get("/console/sso/start")
    async with httpx.AsyncClient() as http:
        theirs = urlsplit((await http.get(started.headers["location"])).headers["location"])
    _, mine = await console.app.asgi_client.get("/console/sso/start")
    for cookie in ({"cookie": f"{PENDING_COOKIE}={mine.cookies[PENDING_COOKIE]}"}, {}):
        _, reply = await console.app.asgi_client.get(
            f"{theirs.path}?{theirs.query}", headers=cookie
        )
        assert reply.status == 400 and COOKIE not in reply.cookies


async def test_a_person_signed_on_has_no_password_to_guess(
    console: Console, provider: Provider
) -> None:
    await sign_on(console)
    for password in ("", "!single-sign-on", "anything at all"):
        _, reply = await console.app.asgi_client.post(
            "/console/login", data={"email": "ana@shop.example", "password": password}
        )
        assert reply.status == 401


async def test_the_sign_in_page_offers_single_sign_on(console: Console) -> None:
    _, page = await console.app.asgi_client.get("/console/login?next=/console/canned")
    assert "Sign in with Shop ID" in page.text
    assert "/console/sso/start?next=/console/canned" in page.text


async def test_a_provider_that_is_down_leaves_the_password_sign_in(
    small_model: Path, tmp_path: Path
) -> None:
    endpoints = Endpoints(console=settings("http://127.0.0.1:9"))
    console = await make_console(small_model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", endpoints)
    _, reply = await console.app.asgi_client.get("/console/sso/start")
    await console.close()
    assert reply.status == 502 and "not reachable now" in reply.text
    assert 'name="password"' in reply.text


def test_the_highest_mapped_role_wins_and_the_default_takes_the_rest() -> None:
    sso = SingleSignOn.from_endpoints(settings("https://id.example", default_role="viewer"))
    assert sso is not None
    assert sso.role_for({"groups": ["support", "support-leads"]}) == Role.ADMIN
    assert sso.role_for({"groups": "support"}) == Role.AGENT
    assert sso.role_for({"groups": ["sales"]}) == Role.VIEWER
    assert sso.role_for({}) == Role.VIEWER


@pytest.mark.parametrize(
    ("written", "problem", "line"),
    [
        ("    client_id: parlez\n", "needs 'client_secret'", 3),
        (
            "    client_id: parlez\n    client_secret: s\n    roles:\n      support: boss\n",
            "'boss' is not a console role",
            7,
        ),
        ("    client_id: parlez\n    client_secret: s\n    colour: blue\n", "no key 'colour'", 6),
    ],
)
def test_a_wrong_sso_setting_names_its_line_in_endpoints_yml(
    tmp_path: Path, written: str, problem: str, line: int
) -> None:
    path = tmp_path / "endpoints.yml"
    path.write_text("console:\n  sso:\n    issuer: https://id.example\n" + written)
    with pytest.raises(SchemaError) as raised:
        SingleSignOn.from_endpoints(Endpoints.load(path).console)
    assert problem in raised.value.message
    assert raised.value.where is not None and raised.value.where.line == line


def test_an_issuer_without_https_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="https://"):
        SingleSignOn.from_endpoints(settings("http://id.example"))

"""A server with `jwt_key`: the widget signs in with the page's token (a fixed one, or one a
function fetches), a wrong token gets a clear note, and uploads need the token too."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import write
from tests.connectors.webchat.browser import chromium, site
from tests.connectors.webchat.conftest import ENDPOINTS
from tests.server.process import ServerProcess, parlez_run
from tests.services import free_port

SECRET = "a-secret-of-the-business-website"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def token(secret: str = SECRET) -> str:
    return jwt.encode({"sub": "visitor"}, secret, algorithm="HS256")


@pytest.fixture(scope="module")
def signed(
    small_project: Path, small_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, ServerProcess, Any]]:
    root = tmp_path_factory.mktemp("webchat-jwt")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(small_project / name, root / name)
    write(root / "endpoints.yml", ENDPOINTS)
    port = free_port()
    with chromium() as browser, site(f"http://127.0.0.1:{port}") as site_url:
        write(
            root / "credentials.yml",
            f"""
            connectors.webchat.WebChatInput:
              allowed_origins: ["{site_url}"]
              jwt_key: {SECRET}
              jwt_method: HS256
              attachments:
                folder: uploads
            """,
        )
        with parlez_run(root, "-m", str(small_model), port=port) as server:
            yield site_url, server, browser


@pytest.fixture
def page(signed: tuple[str, ServerProcess, Any]) -> Iterator[Any]:
    context = signed[2].new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def say_hello(page: Any) -> None:
    page.locator("textarea").fill("hello")
    page.keyboard.press("Enter")
    page.locator(".msg.bot", has_text="Where are you?").wait_for()


def test_the_page_token_signs_the_widget_in(
    signed: tuple[str, ServerProcess, Any], page: Any
) -> None:
    page.goto(f"{signed[0]}/?open=true&token={token()}")
    say_hello(page)


def test_a_function_can_fetch_a_fresh_token_for_each_connection(
    signed: tuple[str, ServerProcess, Any], page: Any
) -> None:
    page.goto(f"{signed[0]}/?open=true&token=expired")
    page.evaluate(
        "t => { window.asked = 0; ParlezChat.init({open: true,"
        " token: () => { window.asked++; return Promise.resolve(t); }}); }",
        token(),
    )
    say_hello(page)
    assert page.evaluate("() => window.asked") >= 1


def test_a_wrong_token_is_refused_with_a_note(
    signed: tuple[str, ServerProcess, Any], page: Any
) -> None:
    page.goto(
        f"{signed[0]}/?open=true&token={token('not-the-secret-of-the-business-website-at-all')}"
    )
    page.locator(".note", has_text="could not sign in").wait_for()


def test_uploads_need_the_token(signed: tuple[str, ServerProcess, Any]) -> None:
    site_url, server, _ = signed

    def upload(headers: dict[str, str]) -> httpx.Response:
        return httpx.post(
            f"{server.url}/webchat/upload",
            data={"session_id": "signed-visitor"},
            files={"file": ("photo.png", PNG, "image/png")},
            headers={"Origin": site_url, **headers},
        )

    assert upload({}).status_code == 401
    assert (
        upload(
            {"Authorization": f"Bearer {token('a-wrong-secret-that-is-long-enough-for-sha256')}"}
        ).status_code
        == 401
    )
    assert upload({"Authorization": f"Bearer {token()}"}).status_code == 201

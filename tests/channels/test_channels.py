"""Channels from credentials.yml: the built-ins by name, the user's own by dotted path."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from parlez.agent import Agent
from parlez.channels.callback import CallbackInput
from parlez.channels.channel import ChannelConfigError, InputChannel
from parlez.channels.credentials import channel_class, channels_from_credentials
from parlez.channels.rest import RestInput
from parlez.channels.socketio import SocketIOInput
from parlez.server.app import create_app
from parlez.server.state import ServerState
from tests.conftest import write
from tests.server.process import parlez_run

pytestmark = pytest.mark.anyio


def app_with(model: Path, channels: list[InputChannel], **options: Any) -> Any:
    return create_app(ServerState(agent=Agent.load(model), channels=channels), **options)


def test_built_in_channels_are_found_by_rasas_names() -> None:
    found = channels_from_credentials(
        {"rest": {}, "socketio": {"session_persistence": True}, "callback": {"url": "http://x"}}
    )
    assert [type(c) for c in found] == [RestInput, SocketIOInput, CallbackInput]
    assert isinstance(found[1], SocketIOInput) and found[1].session_persistence


def test_unknown_channels_and_missing_settings_are_clear_errors() -> None:
    with pytest.raises(ChannelConfigError, match="unknown channel 'socketoi'") as error:
        channel_class("socketoi")
    assert "socketio" in str(error.value.hint)
    with pytest.raises(ChannelConfigError, match="needs the 'url'"):
        CallbackInput.from_credentials({})
    with pytest.raises(ChannelConfigError, match="cannot import"):
        channel_class("nowhere.to.be.Found")


def test_two_socketio_channels_on_one_path_are_a_clear_error() -> None:
    both = {"socketio": {}, "connectors.webchat.WebChatInput": {}}
    with pytest.raises(ChannelConfigError, match=r"both serve socket\.io at '/socket\.io'"):
        channels_from_credentials(both)
    both["connectors.webchat.WebChatInput"] = {"socketio_path": "/chat.io"}
    assert len(channels_from_credentials(both)) == 2


async def test_the_callback_channel_posts_answers_to_the_url(small_model: Path) -> None:
    received: list[dict[str, Any]] = []
    got = asyncio.Event()

    async def bot(request: web.Request) -> web.Response:
        received.append(await request.json())
        got.set()
        return web.Response(text="ok")

    server = web.Application()
    server.router.add_post("/bot", bot)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        app = app_with(small_model, [CallbackInput(f"http://127.0.0.1:{port}/bot")])
        _, reply = await app.asgi_client.post(
            "/webhooks/callback/webhook", json={"sender": "cb", "message": "hello"}
        )
        assert reply.status == 200 and reply.text == "success"
        await asyncio.wait_for(got.wait(), 10)
        assert received[0]["recipient_id"] == "cb"
        assert received[0]["text"] == "Hello! Where are you?"
    finally:
        await runner.cleanup()


CUSTOM_CHANNEL = '''
from sanic import Blueprint, response

from parlez.channels.channel import CollectingOutputChannel, InputChannel, UserMessage


class ShoutInput(InputChannel):
    """Answers in capitals: a channel of the user's own, named by dotted path."""

    def __init__(self, prefix):
        self.prefix = prefix

    @classmethod
    def name(cls):
        return "shout"

    @classmethod
    def from_credentials(cls, credentials):
        return cls(credentials["prefix"])

    def blueprint(self, on_new_message):
        bp = Blueprint("shout_webhook", url_prefix="/webhooks/shout")

        @bp.post("/webhook")
        async def receive(request):
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(request.json["text"], collector, "s"))
            return response.json([self.prefix + m["text"].upper() for m in collector.messages])

        return bp
'''


async def test_a_custom_channel_loads_by_dotted_path(
    small_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "my_channels" / "__init__.py", "")
    write(tmp_path / "my_channels" / "shout.py", CUSTOM_CHANNEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    channels = channels_from_credentials({"my_channels.shout.ShoutInput": {"prefix": "> "}})
    app = app_with(small_model, channels)
    _, reply = await app.asgi_client.post("/webhooks/shout/webhook", json={"text": "hello"})
    assert reply.json == ["> HELLO! WHERE ARE YOU?"]
    sys.modules.pop("my_channels.shout", None)
    sys.modules.pop("my_channels", None)


async def test_cors_answers_allowed_origins_only(small_model: Path) -> None:
    app = app_with(small_model, [RestInput()], cors=["https://shop.example"])
    preflight = {
        "Origin": "https://shop.example",
        "Access-Control-Request-Method": "POST",
    }
    _, allowed = await app.asgi_client.options("/webhooks/rest/webhook", headers=preflight)
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    _, refused = await app.asgi_client.options(
        "/webhooks/rest/webhook", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert refused.status == 403
    _, posted = await app.asgi_client.post(
        "/webhooks/rest/webhook",
        json={"sender": "c", "message": "hi"},
        headers={"Origin": "https://shop.example"},
    )
    assert posted.headers["access-control-allow-origin"] == "https://shop.example"


RASA_DEMO_CREDENTIALS = """
# Rasa's moodbot, as Rasa's own repository ships it: the Rasa X channel, and Messenger
# with the demo's placeholder values.
rest:

facebook:
  verify: "rasa-bot"
  secret: "3e34709d01ea89032asdebfe5a74518"
  page-access-token: "EAAbHPa7H9rEBAAuFk4Q3gPKbDedQnx4djJJ1JsQ7KZA5bIw48ZCHkCOH5nhyt"

rasa:
  url: "http://localhost:5002/api"
"""


def test_a_rasa_demo_with_rasa_and_facebook_entries_starts(
    small_project: Path, small_model: Path, tmp_path: Path
) -> None:
    """`parlez run` with the credentials.yml of Rasa's demos: it serves REST and Messenger,
    and says once that Rasa X's channel is left out."""
    credentials = write(tmp_path / "credentials.yml", RASA_DEMO_CREDENTIALS)
    with parlez_run(
        small_project, "-m", str(small_model), "--credentials", str(credentials)
    ) as server:
        assert httpx.get(f"{server.url}/webhooks/facebook/", timeout=30).json() == {"status": "ok"}
        assert httpx.get(f"{server.url}/webhooks/rest/", timeout=30).status_code == 200
        assert server.log.count("P411") == 1 and "'rasa'" in server.log

"""The web chat's channel over real sockets: history after a reconnect, each message answered
once, limits, ratings, visitor details, uploads and the origins a page may come from."""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.connectors.webchat.conftest import ALLOWED
from tests.server.process import ServerProcess

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class Visitor:
    """A socket.io client doing what the widget does."""

    def __init__(self, url: str, origin: str | None = ALLOWED) -> None:
        self.url = url
        self.origin = origin
        self.client = socketio.AsyncClient(reconnection=False)
        self.bot: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.echoes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.history: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.client.on("bot_uttered", self.bot.put)
        self.client.on("user_echo", self.echoes.put)
        self.client.on("history", self.history.put)
        self.session = ""

    async def start(self, session_id: str | None = None) -> dict[str, Any]:
        headers = {"Origin": self.origin} if self.origin else {}
        await self.client.connect(self.url, transports=["websocket"], headers=headers)
        await self.client.emit("session_request", {"session_id": session_id})
        past = await asyncio.wait_for(self.history.get(), 10)
        self.session = past["session_id"]
        return past

    async def say(self, text: str, **extra: Any) -> dict[str, Any]:
        body = {"message": text, "session_id": self.session, **extra}
        reply: dict[str, Any] = await self.client.call("user_uttered", body, timeout=30)
        return reply

    async def stop(self) -> None:
        await self.client.disconnect()


def events(project: Path, sender: str) -> list[dict[str, Any]]:
    with sqlite3.connect(project / "conversations.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_history_comes_back_after_a_reconnect(small_webchat: tuple[Path, ServerProcess]) -> None:
    _, server = small_webchat

    async def run() -> None:
        first = Visitor(server.url)
        assert (await first.start())["messages"] == []
        reply = await first.say("hello", metadata={"page": {"url": "https://shop.test/a"}})
        assert reply["ok"] and reply["handoff"] is False
        greeting = await first.bot.get()
        assert greeting["text"] == "Hello! Where are you?"
        assert greeting["quick_replies"][0]["title"] == "Paris"
        await first.say('/inform{"city": "Paris"}', metadata={"display": "Paris"})
        assert (await first.bot.get())["text"] == "You are in Paris."
        await first.stop()

        again = Visitor(server.url)
        past = await again.start(first.session)
        assert past["session_id"] == first.session
        assert [(m["sender"], m["text"]) for m in past["messages"]] == [
            ("user", "hello"),
            ("bot", "Hello! Where are you?"),
            ("user", "Paris"),  # what the visitor clicked, not the payload
            ("bot", "You are in Paris."),
        ]
        await again.stop()

    asyncio.run(run())


def test_a_message_sent_twice_is_answered_once(small_webchat: tuple[Path, ServerProcess]) -> None:
    project, server = small_webchat
    message_id = uuid.uuid4().hex

    async def run() -> str:
        visitor = Visitor(server.url)
        await visitor.start()
        assert (await visitor.say("hello", message_id=message_id))["ok"]
        await visitor.stop()
        # The acknowledgement was lost: the widget sends the same message again.
        again = Visitor(server.url)
        await again.start(visitor.session)
        reply = await again.say("hello", message_id=message_id, resend=True)
        assert reply == {"ok": True, "id": message_id, "duplicate": True}
        await again.stop()
        return visitor.session

    session = asyncio.run(run())
    users = [e for e in events(project, session) if e["event"] == "user"]
    assert [u["message_id"] for u in users] == [message_id]


def test_the_other_tabs_of_a_visitor_see_what_one_tab_sent(
    small_webchat: tuple[Path, ServerProcess],
) -> None:
    _, server = small_webchat

    async def run() -> None:
        one, two = Visitor(server.url), Visitor(server.url)
        await one.start()
        await two.start(one.session)
        await one.say("hello")
        echo = await asyncio.wait_for(two.echoes.get(), 10)
        assert echo["text"] == "hello"
        # Both tabs get the answer.
        assert (await asyncio.wait_for(two.bot.get(), 10))["text"].startswith("Hello!")
        assert one.echoes.empty()
        await one.stop()
        await two.stop()

    asyncio.run(run())


def test_long_messages_and_floods_are_refused_and_not_stored(
    small_webchat: tuple[Path, ServerProcess],
) -> None:
    project, server = small_webchat

    async def run() -> tuple[str, list[dict[str, Any]]]:
        visitor = Visitor(server.url)
        await visitor.start()
        too_long = await visitor.say("x" * 41)
        replies = [await visitor.say(f"bye {i}") for i in range(6)]
        await visitor.stop()
        return visitor.session, [too_long, *replies]

    session, replies = asyncio.run(run())
    assert replies[0]["error"] == "too_long" and replies[0]["limit"] == 40
    assert [r["ok"] for r in replies[1:]] == [True] * 4 + [False] * 2
    assert replies[-1]["error"] == "rate_limited" and replies[-1]["retry_after"] > 0
    texts = [e["text"] for e in events(project, session) if e["event"] == "user"]
    assert texts == ["bye 0", "bye 1", "bye 2", "bye 3"]


def test_a_rating_and_the_visitors_details_are_kept_with_the_conversation(
    small_webchat: tuple[Path, ServerProcess],
) -> None:
    project, server = small_webchat

    async def run() -> str:
        visitor = Visitor(server.url)
        await visitor.start()
        metadata = {
            "visitor": {"name": "Ana", "email": "ana@example.com", "consent": True},
            "page": {"url": "https://shop.test/prices", "title": "Prices"},
            "referrer": "https://search.test/",
            "language": "fr-FR",
            "timezone": "Europe/Paris",
            "cookie": "not kept",
        }
        await visitor.say("hello", metadata=metadata)
        bad = await visitor.client.call("feedback", {"rating": 7}, timeout=10)
        assert bad["error"] == "bad_rating"
        good = await visitor.client.call(
            "feedback", {"rating": 4, "comment": "quick answers"}, timeout=10
        )
        assert good == {"ok": True}
        await visitor.stop()
        return visitor.session

    session = asyncio.run(run())
    stored = events(project, session)
    (user,) = [e for e in stored if e["event"] == "user"]
    assert user["metadata"]["visitor"]["email"] == "ana@example.com"
    assert user["metadata"]["timezone"] == "Europe/Paris"
    assert "cookie" not in user["metadata"]
    assert stored[-1]["event"] == "feedback"
    assert (stored[-1]["rating"], stored[-1]["comment"]) == (4, "quick answers")
    tracker = httpx.get(f"{server.url}/conversations/{session}/tracker").json()
    assert tracker["events"][-1]["event"] == "feedback"


def test_pages_on_other_origins_are_refused(small_webchat: tuple[Path, ServerProcess]) -> None:
    _, server = small_webchat

    async def connect(origin: str) -> None:
        visitor = Visitor(server.url, origin=origin)
        await visitor.start()
        await visitor.stop()

    asyncio.run(connect(server.url))  # the server's own pages
    asyncio.run(connect(ALLOWED))
    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(connect("http://evil.test"))
    refused = httpx.post(
        f"{server.url}/webchat/upload",
        data={"session_id": "s1"},
        files={"file": ("a.png", PNG, "image/png")},
        headers={"Origin": "http://evil.test"},
    )
    assert refused.status_code == 403 and refused.json()["reason"] == "OriginNotAllowed"


def test_uploads_are_checked_stored_and_linked_from_the_message(
    small_webchat: tuple[Path, ServerProcess],
) -> None:
    project, server = small_webchat

    def upload(name: str, content: bytes, kind: str) -> httpx.Response:
        return httpx.post(
            f"{server.url}/webchat/upload",
            data={"session_id": "uploader"},
            files={"file": (name, content, kind)},
            headers={"Origin": ALLOWED},
        )

    good = upload("../../receipt.png", PNG, "image/png")
    assert good.status_code == 201, good.text
    assert good.headers["access-control-allow-origin"] == ALLOWED
    described = good.json()
    assert described["name"] == "receipt.png" and described["type"] == "image/png"
    served = httpx.get(server.url + described["url"])
    assert served.content == PNG
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-type"] == "image/png"
    assert list((project / "uploads").glob("*.png"))

    disguised = upload("cat.png", b"<script>alert(1)</script>", "image/png")
    assert disguised.status_code == 415 and "PDF" in disguised.json()["message"]
    assert upload("big.pdf", b"%PDF-" + b"0" * 5000, "application/pdf").status_code == 413
    assert httpx.get(f"{server.url}/webchat/files/../conversations.db").status_code == 404

    async def send() -> dict[str, Any]:
        visitor = Visitor(server.url)
        await visitor.start("uploader")
        reply = await visitor.say("", attachment={"url": described["url"]})
        forged = await visitor.say("", attachment={"url": "/webchat/files/../../etc/passwd"})
        await visitor.stop()
        assert forged["error"] == "empty"
        return reply

    assert asyncio.run(send())["ok"]
    (user,) = [e for e in events(project, "uploader") if e["event"] == "user"]
    assert user["metadata"]["attachment"]["url"] == described["url"]
    assert user["text"] == "receipt.png"


def test_the_widget_and_its_page_are_served_with_the_business_defaults(
    small_webchat: tuple[Path, ServerProcess],
) -> None:
    _, server = small_webchat
    widget = httpx.get(f"{server.url}/webchat/widget.js", headers={"Accept-Encoding": "gzip"})
    assert widget.status_code == 200
    assert widget.headers["content-encoding"] == "gzip"
    assert widget.headers["content-type"].startswith("text/javascript")
    assert len(gzip.compress(widget.content, 9)) < 30 * 1024
    assert '"max_message_chars": 40' in widget.text
    etag = widget.headers["etag"]
    assert (
        httpx.get(f"{server.url}/webchat/widget.js", headers={"If-None-Match": etag}).status_code
        == 304
    )

    page = httpx.get(f"{server.url}/webchat/", follow_redirects=True)
    assert page.status_code == 200 and "/webchat/widget.js" in page.text
    # The title from credentials.yml cannot close the page's script.
    assert "</script><b>" not in page.text and "\\u003c/script>" in page.text


def test_uploads_go_to_an_s3_bucket_when_configured(
    small_project: Path, small_model: Path, s3_bucket: dict[str, str], tmp_path: Path
) -> None:
    from tests.conftest import write
    from tests.server.process import parlez_run

    for name in ("domain.yml", "config.yml"):
        write(tmp_path / name, (small_project / name).read_text())
    s3 = "".join(f"\n      {key}: {value}" for key, value in s3_bucket.items())
    write(
        tmp_path / "credentials.yml",
        f"connectors.webchat.WebChatInput:\n  attachments:\n    storage: s3\n    s3:{s3}\n",
    )
    with parlez_run(tmp_path, "-m", str(small_model)) as server:
        sent = httpx.post(
            f"{server.url}/webchat/upload",
            data={"session_id": "s3-visitor"},
            files={"file": ("photo.png", PNG, "image/png")},
        )
        assert sent.status_code == 201, sent.text
        served = httpx.get(server.url + sent.json()["url"])
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    assert not (tmp_path / "attachments").exists()


def test_what_a_page_reports_is_checked_and_kept_once(
    small_webchat: tuple[Path, ServerProcess],
) -> None:
    """`ParlezChat.track`'s route: a purchase kept by the visitor's session, the same order
    once, bad values refused with what is wrong, other origins refused."""
    project, server = small_webchat

    def track(body: Any, origin: str = ALLOWED) -> httpx.Response:
        return httpx.post(f"{server.url}/webchat/track", json=body, headers={"Origin": origin})

    order = {"session_id": "buyer", "event": "purchase", "value": 120, "currency": "eur"}
    first = track({**order, "order_id": "A-1042"})
    assert first.status_code == 202 and first.json() == {"kept": True}
    assert first.headers["access-control-allow-origin"] == ALLOWED
    assert track({**order, "order_id": "A-1042"}).json() == {"kept": False}  # a page reloaded
    for wrong, message in (
        ({**order, "value": "120"}, "'value' is a number"),
        ({**order, "value": -5}, "from 0 to 1e9"),
        ({**order, "currency": "euros"}, "three-letter code"),
        ({**order, "currency": None}, "a 'value' needs its 'currency'"),
        ({**order, "event": "Buy now!"}, "'event' is a name"),
        ({**order, "session_id": "../x"}, "a session_id is needed"),
        ([1, 2], "send a JSON object"),
    ):
        refused = track(wrong)
        assert refused.status_code == 400 and message in refused.json()["message"], wrong
    assert track(order, origin="http://evil.test").status_code == 403
    preflight = httpx.options(
        f"{server.url}/webchat/track",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    with sqlite3.connect(project / "conversations.db") as db:
        rows = db.execute(
            "SELECT sender_id, name, value, currency, order_id FROM console_tracked"
        ).fetchall()
    assert rows == [("buyer", "purchase", 120.0, "EUR", "A-1042")]

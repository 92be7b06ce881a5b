"""A local stand-in for Telegram's Bot API (`POST /bot<token>/<method>`), and the updates
Telegram sends to a webhook.

It answers as the Bot API does: `{"ok": true, "result": ...}`, or `{"ok": false,
"error_code", "description"}` (with `parameters.retry_after` for a 429). A test can make the
next calls fail (`fail`: HTTP statuses, one used up per call) and reads the calls made.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import JsonHandler, serving

TOKEN = "123456:telegram-test-token"


@dataclass
class FakeTelegram:
    token: str = TOKEN
    fail: list[int] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: until when (a Unix time) every request gets a 503, as in an outage
    down_until: float = 0.0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sent(self, method: str = "sendMessage", chat: str | None = None) -> list[dict[str, Any]]:
        return [
            body
            for name, body in self.calls
            if name == method and (chat is None or str(body.get("chat_id")) == chat)
        ]

    def texts(self, chat: str | None = None) -> list[str]:
        return [body["text"] for body in self.sent("sendMessage", chat)]


def _handler(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            prefix = f"/bot{fake.token}/"
            if not self.path.startswith(prefix):
                self._send(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            method = self.path[len(prefix) :]
            with fake._lock:
                status = fake.fail.pop(0) if fake.fail else 200
                if time.time() < fake.down_until:
                    status = 503
                if status == 200:
                    fake.calls.append((method, body))
                number = len(fake.calls)
            if status == 429:
                error = {"description": "Too Many Requests: retry after 1"}
                self._send(
                    429, {"ok": False, "error_code": 429, **error, "parameters": {"retry_after": 1}}
                )
            elif status != 200:
                self._send(
                    status, {"ok": False, "error_code": status, "description": "Bad Gateway"}
                )
            elif method in ("sendMessage", "sendPhoto"):
                chat = {"id": body.get("chat_id"), "type": "private"}
                self._send(
                    200,
                    {
                        "ok": True,
                        "result": {"message_id": number, "chat": chat, "date": 1764800000},
                    },
                )
            else:  # setWebhook, answerCallbackQuery, sendChatAction
                self._send(200, {"ok": True, "result": True})

    return Handler


@contextmanager
def fake_telegram(**settings: Any) -> Iterator[FakeTelegram]:
    fake = FakeTelegram(**settings)
    with serving(fake, _handler(fake)):
        yield fake


def text_update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    person = {
        "id": chat,
        "is_bot": False,
        "first_name": "Ana",
        "username": "ana",
        "language_code": "en",
    }
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": person,
            "chat": {"id": chat, "type": "private", "first_name": "Ana"},
            "date": 1764800000,
            "text": text,
        },
    }


def button_update(update_id: int, chat: int, data: str) -> dict[str, Any]:
    person = {"id": chat, "is_bot": False, "first_name": "Ana"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": person,
            "message": {
                "message_id": 1,
                "chat": {"id": chat, "type": "private"},
                "date": 1764800000,
            },
            "chat_instance": "42",
            "data": data,
        },
    }

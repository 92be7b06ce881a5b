"""A local stand-in for Slack's Web API (`POST /api/chat.postMessage`), and the signed
requests Slack's Events API and interactivity send.

It answers as Slack does: `{"ok": true, "channel", "ts", "message"}`, `{"ok": false,
"error": "invalid_auth"}` for a wrong token, and a 429 with `Retry-After` when rate limited.
A test can make the next calls fail (`fail`: HTTP statuses, one used up per call).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode

from tests.fakes.http import JsonHandler, serving

TOKEN = "xoxb-test-token"
SIGNING_SECRET = "slack-signing-secret"


@dataclass
class FakeSlack:
    token: str = TOKEN
    fail: list[int] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    #: until when (a Unix time) every request gets a 503, as in an outage
    down_until: float = 0.0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def texts(self, channel: str | None = None) -> list[str]:
        return [p["text"] for p in self.posted if channel is None or p["channel"] == channel]


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/api/chat.postMessage":
                self._send(404, {"ok": False, "error": "unknown_method"})
                return
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._send(200, {"ok": False, "error": "invalid_auth"})
                return
            with fake._lock:
                status = fake.fail.pop(0) if fake.fail else 200
                if time.time() < fake.down_until:
                    status = 503
                if status == 200:
                    fake.posted.append(body)
                number = len(fake.posted)
            if status == 429:
                self._send(429, {"ok": False, "error": "ratelimited"}, **{"Retry-After": "1"})
            elif status != 200:
                self._send(status, {"ok": False, "error": "internal_error"})
            else:
                ts = f"1764800000.{number:06d}"
                message = {"type": "message", "text": body.get("text"), "ts": ts}
                self._send(
                    200, {"ok": True, "channel": body["channel"], "ts": ts, "message": message}
                )

    return Handler


@contextmanager
def fake_slack(**settings: Any) -> Iterator[FakeSlack]:
    fake = FakeSlack(**settings)
    with serving(fake, _handler(fake)):
        yield fake


def slack_headers(
    raw: bytes, secret: str = SIGNING_SECRET, at: int | None = None
) -> dict[str, str]:
    """The headers Slack signs a request with, at `at` (now by default)."""
    timestamp = str(int(time.time()) if at is None else at)
    base = b"v0:" + timestamp.encode() + b":" + raw
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def message_event(
    user: str, text: str, channel: str = "C1", msg_id: str = "m1", **event: Any
) -> bytes:
    body = {
        "token": "verification-token",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{msg_id}",
        "event_time": 1764800000,
        "event": {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": "1764800000.000100",
            "client_msg_id": msg_id,
            "channel_type": "im",
            **event,
        },
    }
    return json.dumps(body).encode()


def button_press(user: str, value: str, channel: str = "C1", at: str = "1764800001.1") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": "1764800000.000200", "channel_id": channel},
        "trigger_id": "trigger-1",
        "actions": [{"type": "button", "action_id": "button-1", "value": value, "action_ts": at}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()

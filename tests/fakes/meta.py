"""A local stand-in for Meta's Graph API Send API (`POST /<version>/me/messages`) and a Page's
feed (`POST /<version>/<page-id>/feed`, answered `{"id": "<page>_<post>"}`), and a signer for
the webhooks Meta sends.

It answers as the Send API does: `{"recipient_id", "message_id"}` for a message, `{"recipient_id"}`
for a sender action, and Graph's error object for a refusal. A test can make the next requests
fail (`fail`: HTTP statuses, used up one per request) and reads what was sent.
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
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http import JsonHandler, serving

VERSION = "v21.0"


@dataclass
class FakeGraph:
    token: str = "page-token"
    #: statuses for the next requests, one used up per request (then 200s)
    fail: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: until when (a Unix time) every request gets a 503, as in an outage
    down_until: float = 0.0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    def messages(self, recipient: str | None = None) -> list[dict[str, Any]]:
        """The `message` objects sent (sender actions left out), to `recipient` if given."""
        return [
            r["body"]["message"]
            for r in self.requests
            if "message" in r["body"]
            and (recipient is None or r["body"]["recipient"]["id"] == recipient)
        ]

    def texts(self, recipient: str | None = None) -> list[str]:
        return [m["text"] for m in self.messages(recipient) if "text" in m]

    def posts(self, page: str) -> list[dict[str, Any]]:
        """What was posted on the Page's feed (`POST /{page-id}/feed`)."""
        return [r["body"] for r in self.requests if r["path"] == f"/{VERSION}/{page}/feed"]


def _handler(fake: FakeGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            token = parse_qs(parts.query).get("access_token", [""])[0]
            with fake._lock:
                status = fake.fail.pop(0) if fake.fail else 200
                if time.time() < fake.down_until:
                    status = 503
                if status == 200:
                    fake.requests.append({"path": parts.path, "body": body})
                number = len(fake.requests)
            feed = parts.path.endswith("/feed") and parts.path.count("/") == 3
            if parts.path != f"/{VERSION}/me/messages" and not feed:
                self._send(404, {"error": {"message": "Unknown path", "code": 803}})
            elif token != fake.token:
                error = {"message": "Invalid OAuth access token.", "type": "OAuthException"}
                self._send(400, {"error": {**error, "code": 190}})
            elif status != 200:
                error = {"message": "An unexpected error has occurred.", "code": 2}
                self._send(status, {"error": {**error, "is_transient": True}})
            elif feed:  # the Pages API: a post on the Page's feed
                if not body.get("message") and not body.get("link"):
                    error = {"message": "(#100) Missing message or attachment", "code": 100}
                    self._send(400, {"error": {**error, "type": "OAuthException"}})
                else:
                    page = parts.path.split("/")[2]
                    self._send(200, {"id": f"{page}_{number}"})
            elif "sender_action" in body:
                self._send(200, {"recipient_id": body["recipient"]["id"]})
            else:
                self._send(
                    200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_{number}"}
                )

    return Handler


@contextmanager
def fake_graph(**settings: Any) -> Iterator[FakeGraph]:
    fake = FakeGraph(**settings)
    with serving(fake, _handler(fake)):
        yield fake


def signature(secret: str, raw: bytes) -> dict[str, str]:
    """The header Meta signs a webhook body with."""
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


def signed(secret: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A webhook body as Meta sends it, and its headers with Meta's signature."""
    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", **signature(secret, raw)}


def webhook_body(psid: str, page: str, **event: Any) -> dict[str, Any]:
    """A Messenger webhook body with one event from `psid` to the page."""
    messaging = {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": 1764800000000}
    return {
        "object": "page",
        "entry": [{"id": page, "time": 1764800000000, "messaging": [{**messaging, **event}]}],
    }


def message_event(
    psid: str, text: str, mid: str, page: str = "1234", **message: Any
) -> dict[str, Any]:
    """One message from `psid` to the page."""
    return webhook_body(psid, page, message={"mid": mid, "text": text, **message})


def postback_event(psid: str, payload: str, mid: str, page: str = "1234") -> dict[str, Any]:
    """`psid` taps a button (or an ice breaker) whose payload is `payload`."""
    return webhook_body(psid, page, postback={"mid": mid, "title": "A button", "payload": payload})

"""A local stand-in for Twilio's REST API (`POST /2010-04-01/Accounts/<sid>/Messages.json`,
and `.../Calls/<CallSid>.json` to change a live call's TwiML), and a signer for the webhooks
Twilio sends.

It checks the account's Basic auth, reads the form the `twilio` SDK sends (`To`, `From`,
`Body`, `MediaUrl`) and answers with a Message resource as Twilio does (`sid`, `status:
queued`...), or with Twilio's error object. A test can make the next requests fail (`fail`:
HTTP statuses, one used up per request) and reads what was sent.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from tests.fakes.http import JsonHandler, serving

ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-auth-token"


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT
    auth_token: str = TOKEN
    #: statuses for the next requests, one used up per request (then 201s)
    fail: list[int] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: until when (a Unix time) every request gets a 503, as in an outage
    down_until: float = 0.0
    #: the TwiML each live call was given (CallSid, TwiML), and the calls that are over
    call_updates: list[tuple[str, str]] = field(default_factory=list)
    ended_calls: set[str] = field(default_factory=set)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies(self, to: str | None = None) -> list[str]:
        return [m.get("Body", "") for m in self.sent if to is None or m["To"] == to]


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            form: dict[str, Any] = {k: v if k == "MediaUrl" else v[0] for k, v in raw.items()}
            expected = (
                "Basic "
                + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            )
            if self.headers.get("Authorization") != expected:
                self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            calls = f"/2010-04-01/Accounts/{fake.account_sid}/Calls/"
            if self.path.startswith(calls) and self.path.endswith(".json"):
                self._update_call(self.path[len(calls) : -len(".json")], form)
                return
            if self.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                return
            with fake._lock:
                status = fake.fail.pop(0) if fake.fail else 201
                if time.time() < fake.down_until:
                    status = 503
                if status == 201:
                    fake.sent.append(form)
                number = len(fake.sent)
            if status != 201:
                message = "Too Many Requests" if status == 429 else "Service unavailable"
                self._send(status, {"code": 20500 + status % 100, "message": message})
                return
            self._send(
                201,
                {
                    "sid": f"SM{number:032d}",
                    "account_sid": fake.account_sid,
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "body": form.get("Body", ""),
                    "status": "queued",
                    "num_media": str(len(form.get("MediaUrl") or [])),
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/SM{number:032d}.json",
                },
            )

        def _update_call(self, sid: str, form: dict[str, Any]) -> None:
            """A live call's new TwiML, as Twilio takes it: refused once the call is over."""
            with fake._lock:
                if sid in fake.ended_calls:
                    self._send(
                        400,
                        {
                            "code": 21220,
                            "message": "Call is not in-progress. Cannot redirect.",
                            "status": 400,
                        },
                    )
                    return
                fake.call_updates.append((sid, str(form.get("Twiml") or "")))
            self._send(
                200,
                {
                    "sid": sid,
                    "account_sid": fake.account_sid,
                    "status": "in-progress",
                    "direction": "inbound",
                    "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Calls/{sid}.json",
                },
            )

    return Handler


@contextmanager
def fake_twilio(**settings: Any) -> Iterator[FakeTwilio]:
    fake = FakeTwilio(**settings)
    with serving(fake, _handler(fake)):
        yield fake


def sms(sender: str, body: str, sid: str, to: str = "+15550001111", **extra: str) -> dict[str, str]:
    """The form Twilio POSTs for an incoming message."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def twilio_signature(url: str, form: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    """The header Twilio signs a webhook with, computed by the `twilio` SDK."""
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}

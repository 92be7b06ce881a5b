"""A local stand-in for Mailchimp's Marketing API v3: an audience's members, added or
updated by `PUT /3.0/lists/{list_id}/members/{subscriber_hash}` and tagged by
`POST .../members/{subscriber_hash}/tags`, and deleted for good by
`POST .../members/{subscriber_hash}/actions/delete-permanent`, as Mailchimp documents them.

It checks HTTP Basic auth (any user name, the API key as the password), that the hash is
the MD5 of the address in lower case, and the shapes of the bodies; it answers Mailchimp's
problem documents (`type`, `title`, `status`, `detail`, `instance`). Like Mailchimp, it
refuses to subscribe again by API a member who unsubscribed ("Member In Compliance State")
unless the status asked is `pending`. It can be made to fail (`down`) or to ask for
patience (`too_many`: that many 429 answers first).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import JsonHandler, serving

API_KEY = "0123456789abcdef0123456789abcdef-us21"
LIST_ID = "a1b2c3d4e5"
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")


@dataclass
class FakeMailchimp:
    #: subscriber hash -> the member as Mailchimp returns it (tags as a set of names)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    too_many: int = 0
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: the hashes of members deleted for good
    forgotten: set[str] = field(default_factory=set)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/3.0"

    def member(self, email: str) -> dict[str, Any] | None:
        return self.members.get(hashlib.md5(email.lower().encode()).hexdigest())


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "0f5a4b0e-0000-4000-8000-000000000000",
    }


def _handler(fake: FakeMailchimp) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.calls.append((method, self.path))
            if fake.down:
                self._send(503, _problem(503, "Service Unavailable", "try again"))
                return
            if fake.too_many:
                fake.too_many -= 1
                self._send(
                    429, _problem(429, "Too Many Requests", "slow down"), **{"Retry-After": "0"}
                )
                return
            scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
            try:
                password = base64.b64decode(encoded).decode().partition(":")[2]
            except ValueError:
                password = ""
            if scheme != "Basic" or password != API_KEY:
                self._send(401, _problem(401, "API Key Invalid", "Your API key may be invalid"))
                return
            member = re.fullmatch(rf"/3\.0/lists/{LIST_ID}/members/([0-9a-f]{{32}})", self.path)
            tags = re.fullmatch(rf"/3\.0/lists/{LIST_ID}/members/([0-9a-f]{{32}})/tags", self.path)
            deleting = re.fullmatch(
                rf"/3\.0/lists/{LIST_ID}/members/([0-9a-f]{{32}})/actions/delete-permanent",
                self.path,
            )
            if method == "PUT" and member:
                self._upsert(member.group(1), body)
            elif method == "POST" and deleting:
                if fake.members.pop(deleting.group(1), None) is None:
                    self._send(404, _problem(404, "Resource Not Found", "no such member"))
                    return
                fake.forgotten.add(deleting.group(1))
                self.send_response(204)
                self.end_headers()
            elif method == "POST" and tags:
                self._tag(tags.group(1), body)
            else:
                self._send(404, _problem(404, "Resource Not Found", self.path))

        def _upsert(self, key: str, body: dict[str, Any]) -> None:
            email = body.get("email_address")
            if not isinstance(email, str) or hashlib.md5(email.lower().encode()).hexdigest() != key:
                self._send(400, _problem(400, "Invalid Resource", "email_address and hash differ"))
                return
            found = fake.members.get(key)
            status = body.get("status") or (body.get("status_if_new") if found is None else None)
            if status not in STATUSES and not (found is not None and status is None):
                self._send(400, _problem(400, "Invalid Resource", "status_if_new is required"))
                return
            if found is not None and found["status"] == "unsubscribed" and status == "subscribed":
                self._send(
                    400,
                    _problem(
                        400,
                        "Member In Compliance State",
                        f"{email} is already a list member in compliance state due to "
                        "unsubscribe, bounce, or compliance review.",
                    ),
                )
                return
            member = found or {"id": key, "tags": set(), "merge_fields": {}}
            member.update(
                email_address=email,
                status=status or member["status"],
                language=body.get("language", member.get("language", "")),
            )
            member["merge_fields"].update(body.get("merge_fields") or {})
            fake.members[key] = member
            self._send(200, {**member, "tags": [{"name": t} for t in sorted(member["tags"])]})

        def _tag(self, key: str, body: dict[str, Any]) -> None:
            member = fake.members.get(key)
            if member is None:
                self._send(404, _problem(404, "Resource Not Found", "no such member"))
                return
            for tag in body.get("tags", []):
                if tag.get("status") == "active":
                    member["tags"].add(tag["name"])
                elif tag.get("status") == "inactive":
                    member["tags"].discard(tag["name"])
                else:
                    self._send(400, _problem(400, "Invalid Resource", "status: active|inactive"))
                    return
            self.send_response(204)
            self.end_headers()

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


@contextmanager
def fake_mailchimp() -> Iterator[FakeMailchimp]:
    fake = FakeMailchimp()
    with serving(fake, _handler(fake)):
        yield fake

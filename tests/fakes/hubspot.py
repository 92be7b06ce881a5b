"""A local stand-in for HubSpot's CRM API v3: search, create and update contacts (one by
one, or in batches: upsert by e-mail, update by id), add them to or remove them from
lists, and delete them for good (the GDPR deletion).

It checks the bearer token, keeps contacts in memory and can be made to fail (`down`) or to
ask for patience (`too_many`: that many 429 answers with `Retry-After`, first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import JsonHandler, serving

TOKEN = "hubspot-test-token"


@dataclass
class FakeHubSpot:
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, set[str]] = field(default_factory=dict)
    down: bool = False
    too_many: int = 0
    retry_after: str = "0"
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: contacts deleted through the GDPR deletion, by id
    gdpr_deleted: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(fake: FakeHubSpot) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _handle(self, method: str) -> None:
            body = self._body()
            fake.calls.append((method, self.path))
            if fake.down:
                self._send(503, {"status": "error", "message": "Service unavailable"})
                return
            if fake.too_many:
                fake.too_many -= 1
                self.send_response(429)
                self.send_header("Retry-After", fake.retry_after)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "error", "category": "RATE_LIMITS"}')
                return
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"status": "error", "category": "INVALID_AUTHENTICATION"})
                return
            if method == "POST" and self.path == "/crm/v3/objects/contacts/search":
                wanted = body["filterGroups"][0]["filters"][0]["value"].lower()
                results = [
                    {"id": cid, "properties": {"email": c["email"]}}
                    for cid, c in fake.contacts.items()
                    if c["email"].lower() == wanted
                ]
                self._send(200, {"total": len(results), "results": results})
            elif method == "POST" and self.path == "/crm/v3/objects/contacts":
                contact_id = str(len(fake.contacts) + 1001)
                fake.contacts[contact_id] = dict(body["properties"])
                self._send(201, {"id": contact_id, "properties": body["properties"]})
            elif method == "POST" and self.path == "/crm/v3/objects/contacts/batch/upsert":
                results = []
                for item in body["inputs"]:
                    assert item["idProperty"] == "email"
                    email = item["id"].lower()
                    found = next(
                        (cid for cid, c in fake.contacts.items() if c["email"].lower() == email),
                        None,
                    )
                    created = found is None
                    if found is None:
                        found = str(len(fake.contacts) + 1001)
                        fake.contacts[found] = {}
                    fake.contacts[found].update(item["properties"])
                    properties = dict(fake.contacts[found])
                    results.append({"id": found, "new": created, "properties": properties})
                self._send(200, {"status": "COMPLETE", "results": results})
            elif method == "POST" and self.path == "/crm/v3/objects/contacts/gdpr-delete":
                # by id only here: HubSpot blocklists an e-mail address it does not know
                if body.get("idProperty") not in (None, "hs_object_id"):
                    self._send(400, {"status": "error", "message": "idProperty not tested"})
                elif fake.contacts.pop(str(body["objectId"]), None) is None:
                    self._send(404, {"status": "error", "category": "OBJECT_NOT_FOUND"})
                else:
                    fake.gdpr_deleted.append(str(body["objectId"]))
                    self.send_response(204)
                    self.end_headers()
            elif method == "POST" and self.path == "/crm/v3/objects/contacts/batch/update":
                for item in body["inputs"]:
                    fake.contacts[item["id"]].update(item["properties"])
                self._send(200, {"status": "COMPLETE", "results": body["inputs"]})
            elif method == "PATCH" and (
                match := re.fullmatch(r"/crm/v3/objects/contacts/(\d+)", self.path)
            ):
                fake.contacts[match.group(1)].update(body["properties"])
                self._send(200, {"id": match.group(1), "properties": fake.contacts[match.group(1)]})
            elif method == "PUT" and (
                match := re.fullmatch(r"/crm/v3/lists/(\d+)/memberships/(add|remove)", self.path)
            ):
                members = fake.lists.setdefault(match.group(1), set())
                ids = [str(i) for i in body]
                if match.group(2) == "add":
                    members.update(ids)
                    self._send(200, {"recordIdsAdded": ids, "recordIdsMissing": []})
                else:
                    members.difference_update(ids)
                    self._send(200, {"recordIdsRemoved": ids, "recordIdsMissing": []})
            else:
                self._send(404, {"status": "error", "message": "not found"})

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


@contextmanager
def fake_hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    with serving(fake, _handler(fake)):
        yield fake

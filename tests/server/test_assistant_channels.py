"""The repository's assistant on Messenger and SMS, as a business runs it: `facebook:` and
`twilio:` in credentials.yml with the secrets in the environment, signed requests from the
platforms' local stand-ins, the answers sent back there, and both conversations in the
console's inbox, where a person's reply goes out through the customer's channel."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import REPO, write
from tests.fakes.meta import fake_graph, message_event, signed
from tests.fakes.twilio import ACCOUNT, TOKEN, fake_twilio, sms, twilio_signature
from tests.server.process import add_console_user, assistant_endpoints, parlez_run

OWNER = "owner@example.com"
PASSWORD = "a long enough password"
NUMBER = "+15550001111"


def test_the_assistant_answers_on_messenger_and_by_sms_and_both_reach_the_inbox(
    tmp_path: Path, assistant_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_graph(token="page-token") as graph, fake_twilio() as twilio:
        monkeypatch.setenv("FACEBOOK_APP_SECRET", "app-secret")
        monkeypatch.setenv("FACEBOOK_PAGE_ACCESS_TOKEN", "page-token")
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        credentials = tmp_path / "credentials.yml"
        write(
            credentials,
            f"""
            rest:
            facebook:
              verify: pick-a-string
              secret: ${{FACEBOOK_APP_SECRET}}
              page-access-token: ${{FACEBOOK_PAGE_ACCESS_TOKEN}}
              graph_url: {graph.url}
            twilio:
              account_sid: {ACCOUNT}
              auth_token: ${{TWILIO_AUTH_TOKEN}}
              twilio_number: "{NUMBER}"
              api_url: {twilio.url}
            """,
        )
        endpoints = assistant_endpoints(tmp_path)
        served = ["-m", str(assistant_models), "--endpoints", str(endpoints)]
        with parlez_run(REPO, *served, "--credentials", str(credentials)) as server:
            raw, headers = signed(
                "app-secret", message_event("psid-77", "are you open on sunday?", "m_1")
            )
            reply = httpx.post(
                f"{server.url}/webhooks/facebook/webhook", content=raw, headers=headers, timeout=60
            )
            assert reply.status_code == 200
            assert any("Sunday" in text for text in graph.texts("psid-77"))

            url = f"{server.url}/webhooks/twilio/webhook"
            form = sms("+447700900123", "hello", "SM1", to=NUMBER)
            reply = httpx.post(url, data=form, headers=twilio_signature(url, form), timeout=60)
            assert reply.status_code == 200
            assert twilio.bodies("+447700900123")[0].startswith("Hello! I'm the assistant")

            add_console_user(REPO, endpoints, OWNER, "owner", PASSWORD)
            with httpx.Client(base_url=server.url, timeout=60) as console:
                signed_in = console.post(
                    "/console/login", data={"email": OWNER, "password": PASSWORD}
                )
                assert signed_in.status_code == 303
                inbox = console.get("/console/inbox").text
                for sender, channel in (("psid-77", "facebook"), ("+447700900123", "twilio")):
                    row = inbox[inbox.index(f"/console/conversations/{quote(sender)}") :]
                    assert f"<td>{channel}</td>" in row[: row.index("</tr>")]
                sms_page = console.get(f"/console/conversations/{quote('+447700900123')}").text
                assert "<dt>Phone</dt><dd>+447700900123</dd>" in sms_page
                # A person answers the Messenger customer from the console: it goes out there.
                page = console.get("/console/conversations/psid-77").text
                found = re.search(r'name="csrf" value="([^"]+)"', page)
                assert found is not None
                answered = console.post(
                    "/console/conversations/psid-77/reply",
                    data={"text": "Hi, this is Sam from the studio.", "csrf": found.group(1)},
                )
                assert answered.status_code in (200, 303)
            assert graph.texts("psid-77")[-1] == "Hi, this is Sam from the studio."

"""The repository's assistant answering the phone, as a business runs it: `twilio_voice:` in
credentials.yml with the auth token in the environment, and calls from a local stand-in
for Twilio that signs its requests and reads the TwiML answers as Twilio does. One caller
books an appointment by voice, which lands in the studio's calendar; another leaves their
details to be called back; a third asks for a person and is put through to the studio's
number."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import REPO, write
from tests.fakes.twilio import TOKEN
from tests.fakes.twilio_voice import PhoneCall, Post
from tests.server.process import assistant_endpoints, parlez_run

NOW = "2026-11-25T10:00:00+00:00"  # a Wednesday morning


def post_to(client: httpx.AsyncClient) -> Post:
    async def post(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        reply = await client.post(url, data=form, headers=headers)
        return reply.status_code, reply.text

    return post


def test_a_caller_books_by_voice_and_another_is_put_through_to_the_studio(
    tmp_path: Path, assistant_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    business = tmp_path / "business.yml"
    shutil.copy(REPO / "business.yml", business)
    business.write_text(
        business.read_text().replace(
            "  type: file\n", f"  type: file\n  folder: {tmp_path / 'mail'}\n"
        )
    )
    monkeypatch.setenv("PARLEZ_BUSINESS", str(business))
    monkeypatch.setenv("PARLEZ_NOW", NOW)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    credentials = tmp_path / "credentials.yml"
    write(
        credentials,
        """
        twilio_voice:
          auth_token: ${TWILIO_AUTH_TOKEN}
          initial_prompt: /greet
        """,
    )
    endpoints = assistant_endpoints(tmp_path)
    served = ["-m", str(assistant_models), "--endpoints", str(endpoints)]
    with parlez_run(REPO, *served, "--credentials", str(credentials)) as server:
        webhook = f"{server.url}/webhooks/twilio_voice/webhook"
        asyncio.run(calls(webhook))
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as db:
        booked = db.execute(
            text("SELECT service, starts_at, email FROM assistant_appointments")
        ).all()
        leads = db.execute(text("SELECT name, email, phone FROM assistant_leads")).all()
    engine.dispose()
    # ...with the number they called from
    assert [tuple(lead) for lead in leads] == [
        ("Paul Kerr", "paul.kerr@example.com", "+447700900203")
    ]
    ((service, start, email),) = booked
    assert service == "haircut" and email == "anna.lima@example.com"
    # 16:30 in London, on GMT in December
    assert dt.datetime.fromtimestamp(start, dt.UTC) == dt.datetime(
        2026, 12, 1, 16, 30, tzinfo=dt.UTC
    )


async def calls(webhook: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        booking = PhoneCall(post_to(client), webhook, caller="+447700900201")
        greeting = await booking.ring()
        assert greeting.said[0].startswith("Hello! I'm the assistant")
        # Said the way people say them: the time in words, the e-mail address spelled out.
        asked = await booking.say("I'd like to book a haircut")
        assert asked.said[0].startswith("When would you like to come in?")
        asked = await booking.say("next Tuesday at half past four")
        assert asked.said == ["May I have your name?"]
        asked = await booking.say("My name is Anna Lima")
        assert asked.said == ["What e-mail address should we send the confirmation to?"]
        # Every value is read back before anything is booked; a key or a word confirms.
        confirm = await booking.say("anna dot lima at example dot com")
        assert confirm.said == [
            "Shall I book a haircut on Tuesday 1 December at 16:30 (45 minutes) for Anna Lima? "
            "The confirmation will go to anna.lima@example.com.",
            "Press 1 for Yes, book it.",
            "Press 2 for Change something.",
        ]
        assert confirm.gather is not None and confirm.gather["numDigits"] == "1"
        booked = await booking.press("1")
        assert booked.said[0].startswith("You're booked, Anna Lima: a haircut on Tuesday")
        assert booked.listening
        assert await booking.hang_up(duration=75) == 204

        # A lead: the caller leaves their details to be called back.
        lead = PhoneCall(post_to(client), webhook, caller="+447700900203")
        await lead.ring()
        asked = await lead.say("I'd like a callback")
        assert "name" in asked.text
        asked = await lead.say("It's Paul Kerr")
        assert "e-mail" in asked.text
        asked = await lead.say("paul dot kerr at example dot com")
        assert "offers" in asked.text
        saved = await lead.say("no thanks")
        assert saved.said[0] == (
            "Thanks, Paul Kerr. Someone from the team will get back to you at "
            "paul.kerr@example.com."
        )

        transfer = PhoneCall(post_to(client), webhook, caller="+447700900202")
        await transfer.ring()
        answer = await transfer.say("Can I speak to a person please?")
        assert answer.dialled == "+442079460321", answer.twiml
        nobody = await transfer.dial_result("no-answer")
        assert nobody.said[0].startswith("I'm sorry, nobody from the team can take your call")
        assert nobody.listening

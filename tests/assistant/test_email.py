"""Booking confirmations reach a real SMTP server; one that is down loses nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker

from actions.booking import confirmation_values
from actions.business import business
from actions.handoff import handoff_values
from actions.integrations.calendar import Appointment
from actions.integrations.crm import Lead
from actions.integrations.email import TEMPLATES, EmailTemplateError, Mailer, compose, render
from actions.leads import lead_values
from actions.transcript import transcript_values
from parlez.agent import Agent
from tests.assistant.conftest import book, say, texts, the_outbox
from tests.services import SMTPServer, start_smtp


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    yield from start_smtp()


def use_smtp(studio: Path, port: int) -> None:
    settings = (studio / "business.yml").read_text()
    settings = settings.replace(
        "email:\n  type: file\n", f"email:\n  type: smtp\n  host: 127.0.0.1\n  port: {port}\n"
    )
    assert "type: smtp" in settings
    (studio / "business.yml").write_text(settings)


def test_a_booking_confirmation_arrives_in_text_and_html(
    bot: Agent,
    studio: Path,
    smtp: SMTPServer,
) -> None:
    use_smtp(studio, smtp.port)
    book(bot, "mail", "tomorrow at 3pm")
    assert texts(say(bot, "Ana <b>Lind</b>", "mail")) == [
        "Sorry, I couldn't see a name in that.",
        "May I have your name?",
    ]  # markup is not a name
    say(bot, "Ana O'Lind", "mail")
    say(bot, "ana@example.com", "mail")
    say(bot, "/affirm", "mail")
    (message,) = smtp.received
    assert message["To"] == "ana@example.com"
    assert message["Subject"] == "Your haircut at Maple Street Studio"
    assert "Maple Street Studio" in message["From"]
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "Thursday 26 November 2026 at 15:00 (45 minutes)" in text
    assert "Ana O'Lind" in text
    assert "Ana O&#39;Lind" in page and "O'Lind" not in page  # escaped


def test_without_a_server_mail_is_written_to_files(bot: Agent, studio: Path) -> None:
    book(bot, "files", "tomorrow at 11am")
    say(bot, "Bo", "files")
    say(bot, "bo@example.com", "files")
    say(bot, "/affirm", "files")
    (written,) = (studio / "mail").glob("*.eml")
    assert b"bo@example.com" in written.read_bytes()


def test_a_server_that_is_down_keeps_the_mail_until_it_is_back(
    tmp_path: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.integrations import email

    monkeypatch.setattr(email, "RETRY_DELAYS", (0.01,))
    outbox = the_outbox(tmp_path)
    mailer = Mailer({"type": "smtp", "host": "127.0.0.1", "port": smtp.port}, outbox, tmp_path)
    text, page = render("new_lead", lead_values(Lead("cy@example.com", "Cy")))
    first = compose("s@x.org", "cy@example.com", "First", text, page)
    smtp.stop()
    assert mailer.send(first) is False  # down: kept
    assert len(outbox.pending("email")) == 1 and smtp.received == []
    smtp.start()
    assert mailer.send(compose("s@x.org", "cy@example.com", "Second", text)) is True
    assert [m["Subject"] for m in smtp.received] == ["Second", "First"]  # the kept one too
    assert outbox.pending("email") == []


def test_a_mail_sent_while_the_database_is_away_still_goes_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Sending first delivers what waits in the outbox; with the database away (PostgreSQL
    restarting), that part waits, and the booking's confirmation is not refused for it."""
    from sqlalchemy import create_engine

    from actions.integrations.outbox import Outbox

    away = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'assistant.db'}")
    mailer = Mailer({"type": "file"}, Outbox(away), tmp_path / "mail")
    text, page = render("new_lead", lead_values(Lead("cy@example.com", "Cy")))
    assert mailer.send(compose("s@x.org", "cy@example.com", "Booked", text, page)) is True
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert "e-mails waiting in the outbox are sent later" in caplog.text


LANGUAGES = ("en", "fr", "de", "es")


def rendered_with_their_real_values(language: str) -> dict[str, tuple[str, str]]:
    """Every template, in `language`, with the values the action that sends it builds:
    from business.yml, an appointment, a lead and a conversation. What the customer wrote
    holds markup, which the HTML must show as text."""
    settings = business()
    start = dt.datetime(2026, 11, 27, 15, 0, tzinfo=ZoneInfo(settings.timezone))
    booked = Appointment("haircut", start, start + dt.timedelta(minutes=45), "Ana <b>Lind</b>")
    lead = Lead("ana@example.com", "Ana <b>Lind</b>", "+33 6 12 34 56 78", "Call me <i>soon</i>")
    events = [
        {"event": "user", "text": "I want a <b>person</b>", "metadata": {}},
        {"event": "bot", "text": "Someone will answer you here."},
    ]
    slots = {"customer_name": "Ana <b>Lind</b>", "email": "ana@example.com"}
    tracker = Tracker("c-1", slots, {}, events, False, None, {}, "action_listen")
    values = {
        "booking_confirmation": confirmation_values(settings, booked, 45, language),
        "new_lead": lead_values(lead),
        "handoff": handoff_values(tracker),
        "transcript": transcript_values(settings, tracker),
    }
    return {name: render(name, found, language) for name, found in values.items()}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_every_language_with_the_real_values(
    studio: Path, language: str
) -> None:
    found = rendered_with_their_real_values(language)
    # every template the assistant ships is one the actions send
    assert {p.name.split(".")[0] for p in TEMPLATES.iterdir()} == set(found)
    for name, (text, page) in found.items():
        assert "{{" not in text + page and "Undefined" not in text + page, name
        assert "<b>" not in page and "&lt;b&gt;" in page, name  # escaped in the HTML only
        assert "<b>" in text, name
    text, page = found["booking_confirmation"]
    assert "45" in text and "Maple Street Studio" in page


def test_a_placeholder_without_a_value_is_an_error_not_a_customers_email() -> None:
    with pytest.raises(EmailTemplateError, match=r"booking_confirmation.*'service' is undefined"):
        render("booking_confirmation", {"customer_name": "Cy", "business": "Studio"})


def test_an_email_that_cannot_be_filled_is_logged_and_not_sent(
    studio: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A template edited with a misspelt placeholder: the action goes on, the log says
    which e-mail was not sent and why, and nothing half-filled reaches anybody."""
    from actions.services import send_template

    sent = send_template(business(), "cy@example.com", "Hello", "new_lead", {"name": "Cy"})
    assert sent is False
    assert "'Hello' to cy@example.com is not sent" in caplog.text and "email" in caplog.text
    assert not list((studio / "mail").glob("*.eml"))

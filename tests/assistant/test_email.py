"""Booking confirmations reach a real SMTP server; one that is down loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.integrations.email import Mailer, compose, render
from actions.integrations.outbox import Outbox
from parlez.agent import Agent
from tests.assistant.conftest import book, say, texts
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
    assert "Ana O&#x27;Lind" in page and "O'Lind" not in page  # escaped


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
    outbox = Outbox(tmp_path / "outbox.db")
    mailer = Mailer({"type": "smtp", "host": "127.0.0.1", "port": smtp.port}, outbox, tmp_path)
    text, page = render("booking_confirmation", {"customer_name": "Cy", "business": "Studio"})
    first = compose("s@x.org", "cy@example.com", "First", text, page)
    smtp.stop()
    assert mailer.send(first) is False  # down: kept
    assert len(outbox.pending("email")) == 1 and smtp.received == []
    smtp.start()
    assert mailer.send(compose("s@x.org", "cy@example.com", "Second", text)) is True
    assert [m["Subject"] for m in smtp.received] == ["Second", "First"]  # the kept one too
    assert outbox.pending("email") == []

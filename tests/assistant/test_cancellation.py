"""Cancelling: the appointment is found by the e-mail it was booked with, confirmed, freed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from parlez.agent import Agent
from tests.assistant.conftest import book, local_calendar, say, texts


def booked(bot: Agent, sender: str, email: str) -> None:
    book(bot, sender, "tomorrow at 3pm")
    say(bot, "Anna", sender)
    assert texts(say(bot, email, sender))[0].startswith("Shall I book")
    assert texts(say(bot, "/affirm", sender))[0].startswith("You're booked")


def test_an_appointment_is_found_confirmed_and_cancelled(bot: Agent, studio: Path) -> None:
    booked(bot, "web-1", "anna@example.com")
    # Another day, another conversation: the e-mail is asked for.
    assert texts(say(bot, "/cancel_appointment", "web-2")) == [
        "Which e-mail address did you book with?"
    ]
    (question,) = say(bot, "Anna@Example.com", "web-2")
    assert question["text"] == "I found your haircut tomorrow at 15:00. Shall I cancel it?"
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny"]
    assert texts(say(bot, "/affirm", "web-2")) == [
        "It's cancelled. Thank you for letting us know.",
        "Is there anything else I can help with?",
    ]
    calendar = local_calendar(studio)
    assert calendar.upcoming("anna@example.com", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == []
    mails = [p.read_bytes().decode() for p in (studio / "mail").glob("*.eml")]
    assert any("is cancelled" in m for m in mails)
    # The freed time can be booked again.
    assert "name" in texts(book(bot, "web-3", "tomorrow at 3pm"))[0]


def test_asking_again_to_cancel_is_a_yes(bot: Agent, studio: Path) -> None:
    booked(bot, "again", "cleo@example.com")
    say(bot, "/cancel_appointment", "again")
    # "yes, cancel it" reads as another cancel request: it confirms, it does not start over.
    assert texts(say(bot, "/cancel_appointment", "again"))[0] == (
        "It's cancelled. Thank you for letting us know."
    )


def test_keeping_the_appointment(bot: Agent, studio: Path) -> None:
    booked(bot, "keep", "ben@example.com")
    say(bot, "/cancel_appointment", "keep")  # the e-mail is known in this conversation
    assert texts(say(bot, "/deny", "keep")) == [
        "No problem, your appointment stays as it is.",
        "Is there anything else I can help with?",
    ]
    day = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    busy = local_calendar(studio).busy(day, day + dt.timedelta(days=1))
    assert len(busy) == 1


def test_no_appointment_for_that_email(bot: Agent) -> None:
    say(bot, "/cancel_appointment", "nobody")
    assert texts(say(bot, "cy@example.com", "nobody")) == [
        "I can't find an upcoming appointment booked with cy@example.com.",
        "Is there anything else I can help with?",
    ]
    # "No" to that is a goodbye, not "your appointment stays as it is".
    (goodbye,) = texts(say(bot, "/deny", "nobody"))
    assert "stays" not in goodbye

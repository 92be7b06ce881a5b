"""`python -m actions.retry`: what waited while the calendar was down is booked and confirmed
once it is back, and a time taken meanwhile goes to the team instead of being lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from actions.integrations.calendar import Appointment
from actions.retry import retry_all
from parlez.agent import Agent
from tests.assistant.conftest import (
    book,
    calendar_back,
    calendar_down,
    local_calendar,
    say,
    texts,
    the_outbox,
)

LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def request_while_the_calendar_is_down(bot: Agent, studio: Path, sender: str, email: str) -> None:
    calendar_down(studio)
    book(bot, sender, "tomorrow at 11am")
    say(bot, "Dora", sender)
    say(bot, email, sender)
    assert "couldn't reach our calendar" in texts(say(bot, "/affirm", sender))[0]
    calendar_back(studio)


def mails(studio: Path) -> list[str]:
    return [p.read_text() for p in (studio / "mail").glob("*.eml")]


def test_a_booking_that_waited_is_made_and_confirmed(bot: Agent, studio: Path) -> None:
    request_while_the_calendar_is_down(bot, studio, "waited", "dora@example.com")
    assert retry_all()["bookings"] == 1
    (booked,) = local_calendar(studio).upcoming("dora@example.com", LONG_AGO)
    assert (booked.service, booked.start.hour) == ("haircut", 11)
    assert any("To: dora@example.com" in m for m in mails(studio))
    assert the_outbox(studio).pending("booking") == []
    assert retry_all()["bookings"] == 0  # done once


def test_a_time_taken_meanwhile_goes_to_the_team(bot: Agent, studio: Path) -> None:
    request_while_the_calendar_is_down(bot, studio, "late", "eli@example.com")
    start = dt.datetime(2026, 11, 26, 11, tzinfo=dt.UTC)
    local_calendar(studio).book(
        Appointment("colouring", start, start + dt.timedelta(hours=2), "Someone", "s@x.org")
    )
    assert retry_all()["bookings"] == 1
    assert local_calendar(studio).upcoming("eli@example.com", LONG_AGO) == []
    notice = [m for m in mails(studio) if "A booking could not be made" in m]
    assert len(notice) == 1 and "eli@example.com" in notice[0]


def test_the_calendar_still_down_keeps_everything(bot: Agent, studio: Path) -> None:
    request_while_the_calendar_is_down(bot, studio, "still", "fay@example.com")
    calendar_down(studio)
    assert retry_all()["bookings"] == 0
    assert len(the_outbox(studio).pending("booking")) == 1


def test_a_move_that_waited_is_made(studio: Path) -> None:
    start = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    old = local_calendar(studio).book(
        Appointment("haircut", start, start + dt.timedelta(minutes=45), "Gus", "gus@example.com")
    )
    the_outbox(studio).put(
        "reschedule",
        {"appointment_id": old.id, "start": "2026-11-27T14:00:00+00:00", "email": old.email},
    )
    assert retry_all()["moves"] == 1
    (moved,) = local_calendar(studio).upcoming("gus@example.com", LONG_AGO)
    assert moved.start.astimezone(dt.UTC).hour == 14 and moved.id != old.id
    assert any("To: gus@example.com" in m for m in mails(studio))

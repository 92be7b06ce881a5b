"""Booking through the assistant's own domain, rules and rasa_sdk actions: the time is
checked against the calendar, taken times get alternatives, a calendar that is down keeps
the request."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.calendar import SQLiteCalendar
from actions.integrations.outbox import Outbox
from parlez.agent import Agent
from tests.assistant.conftest import NOW, book, read_as, say, texts


def test_a_free_time_is_booked_into_the_calendar(bot: Agent, studio: Path) -> None:
    assert texts(say(bot, "/book_appointment")) == ["Which service would you like to book?"]
    assert "When would you like" in texts(say(bot, '/inform{"service": "a cut"}'))[0]
    assert "name" in texts(say(bot, "tomorrow at 3pm"))[0]
    assert "e-mail" in texts(say(bot, "Anna Lind"))[0]
    assert texts(say(bot, "anna@example"))[0].startswith("That doesn't look like an e-mail")
    done = texts(say(bot, "anna@example.com"))
    assert done[0] == (
        "You're booked, Anna Lind: a haircut tomorrow at 15:00 (45 minutes). "
        "We'll send the confirmation to anna@example.com."
    )
    assert done[1] == "Is there anything else I can help with?"
    calendar = SQLiteCalendar(studio / "calendar.db")
    (appointment,) = calendar.upcoming("anna@example.com", dt.datetime.fromisoformat(NOW))
    assert appointment.service == "haircut" and appointment.start.hour == 15


def test_a_taken_time_offers_the_nearest_free_ones(bot: Agent) -> None:
    book(bot, "first", "tomorrow at 3pm")
    say(bot, "Ben", "first")
    say(bot, "ben@example.com", "first")
    offer = book(bot, "second", "tomorrow at 3pm")
    assert offer[0]["text"] == "Tomorrow at 15:00 isn't available. Would one of these suit you?"
    buttons = offer[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        "tomorrow at 14:00",
        "tomorrow at 14:15",
        "tomorrow at 15:45",
    ]
    assert "name" in texts(say(bot, buttons[2]["payload"], "second"))[0]  # a button click
    say(bot, "Cleo", "second")
    assert "tomorrow at 15:45" in texts(say(bot, "cleo@example.com", "second"))[0]


def test_a_closed_day_gets_times_on_the_nearest_open_ones(bot: Agent) -> None:
    offer = book(bot, "sunday", "sunday at 11")
    assert offer[0]["text"].startswith("Sunday 29 November at 11:00 isn't available")
    assert all("Sunday" not in b["title"] for b in offer[0]["buttons"])


def test_an_unknown_service_lists_the_real_ones(bot: Agent) -> None:
    say(bot, "/book_appointment", "nails")
    assert texts(say(bot, "a manicure", "nails"))[0] == (
        "We offer haircut, colouring, blow-dry, beard trim. Which one would you like?"
    )


def test_a_calendar_that_is_down_keeps_the_request(bot: Agent, studio: Path) -> None:
    (studio / "business.yml").write_text(
        (studio / "business.yml")
        .read_text()
        .replace("path: calendar.db", "path: no/such/dir/calendar.db")
    )
    book(bot, "down", "tomorrow at 11am")
    say(bot, "Dora", "down")
    answer = texts(say(bot, "dora@example.com", "down"))[0]
    assert "couldn't reach our calendar" in answer and "dora@example.com" in answer
    ((_, request),) = Outbox(studio / "outbox.db").pending("booking")
    assert request["customer_name"] == "Dora" and request["service"] == "haircut"
    assert request["start"].startswith("2026-11-26 11:00")


def test_a_time_given_before_the_service_is_checked_once_the_service_is_known(bot: Agent) -> None:
    say(bot, '/book_appointment{"time": "2026-11-29T11:00:00+00:00"}', "early")  # a Sunday
    answer = say(bot, '/inform{"service": "haircut"}', "early")
    assert answer[0]["text"] == (
        "Sunday 29 November at 11:00 isn't available. Would one of these suit you?"
    )
    assert answer[0]["buttons"] and "When would you like" in answer[-1]["text"]


def test_a_day_without_an_hour_given_first_gets_that_days_free_times(bot: Agent) -> None:
    say(bot, '/book_appointment{"time": "on the 2nd of december"}', "day")
    answer = say(bot, '/inform{"service": "haircut"}', "day")
    assert answer[0]["text"] == "Here are the free times I found. Would one of these suit you?"
    assert all("2 December" in b["title"] for b in answer[0]["buttons"])
    assert "name" in texts(say(bot, answer[0]["buttons"][0]["payload"], "day"))[0]


def use_caldav(studio: Path, url: str, username: str, password: str, name: str) -> None:
    settings = (studio / "business.yml").read_text()
    settings = settings.replace(
        "    type: sqlite            # or: caldav (url, username, password: ${CALDAV_PASSWORD})\n"
        "    path: calendar.db\n",
        f"    type: caldav\n    url: {url}\n    username: {username}\n"
        f"    password: ${{CALDAV_PASSWORD}}\n    calendar: {name}\n",
    )
    assert "type: caldav" in settings
    (studio / "business.yml").write_text(settings)


def test_a_booking_lands_in_a_caldav_calendar(
    bot: Agent, studio: Path, radicale: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.integrations.caldav_calendar import CalDAVCalendar

    monkeypatch.setenv("CALDAV_PASSWORD", radicale.password)  # the secret stays out of the file
    name = f"studio-{uuid.uuid4().hex[:8]}"
    use_caldav(studio, radicale.url, radicale.username, "", name)
    book(bot, "cal", "friday at 10am")
    say(bot, "Fay", "cal")
    assert (
        "You're booked, Fay: a haircut Friday 27 November at 10:00"
        in texts(say(bot, "fay@example.com", "cal"))[0]
    )
    calendar = CalDAVCalendar(radicale.url, radicale.username, radicale.password, name)
    (appointment,) = calendar.upcoming("fay@example.com", dt.datetime.fromisoformat(NOW))
    assert appointment.start == dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    # The next customer asking for that time is offered others.
    offer = book(bot, "cal2", "friday at 10am")
    assert offer[0]["text"].startswith("Friday 27 November at 10:00 isn't available")


def test_a_caldav_server_that_is_down_keeps_the_request(
    bot: Agent, studio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.services import free_port

    monkeypatch.setenv("CALDAV_PASSWORD", "x")
    use_caldav(studio, f"http://127.0.0.1:{free_port()}/", "studio", "", "down")
    book(bot, "gone", "friday at 10am")
    say(bot, "Gus", "gone")
    answer = texts(say(bot, "gus@example.com", "gone"))[0]
    assert "couldn't reach our calendar" in answer
    ((_, request),) = Outbox(studio / "outbox.db").pending("booking")
    assert request["email"] == "gus@example.com"


def test_a_name_that_reads_like_no_is_still_the_name(bot: Agent) -> None:
    book(bot, "noah", "tomorrow at 11am")
    assert "e-mail" in texts(read_as(bot, "Noah Smith", "deny", "noah"))[0]
    done = texts(say(bot, "noah@example.com", "noah"))
    assert done[0].startswith("You're booked, Noah Smith")
    # A real "no" is not taken for a name.
    book(bot, "nope", "tomorrow at 2pm")
    answer = texts(read_as(bot, "no thanks", "deny", "nope"))
    assert not any("e-mail" in t for t in answer)
    # A surname that reads like a question the form ignores.
    book(bot, "owen", "tomorrow at 4pm")
    assert "e-mail" in texts(read_as(bot, "Owen Price", "ask_prices", "owen"))[0]
    book(bot, "asks", "tomorrow at 5pm")
    answer = texts(read_as(bot, "Price list?", "ask_prices", "asks"))
    assert not any("e-mail" in t for t in answer)


def test_no_while_the_form_asks_stops_the_booking(bot: Agent, studio: Path) -> None:
    book(bot, "stop", "tomorrow at 11am")
    assert texts(say(bot, "/deny", "stop")) == [
        "No problem, I've stopped there. Is there anything else I can help with?"
    ]
    tracker = asyncio.run(bot.tracker_store.retrieve("stop"))
    assert tracker is not None and tracker.active_loop_name is None
    assert not (studio / "calendar.db").exists() or not SQLiteCalendar(studio / "calendar.db").busy(
        dt.datetime.fromisoformat(NOW), dt.datetime.fromisoformat(NOW) + dt.timedelta(days=9)
    )


def test_a_question_asked_three_times_without_an_answer_offers_a_person(bot: Agent) -> None:
    say(bot, "/book_appointment", "stuck")
    say(bot, '/inform{"service": "haircut"}', "stuck")
    for _ in range(2):
        assert texts(say(bot, "whenever suits", "stuck"))[0].startswith("Sorry, I didn't catch")
    answer = texts(say(bot, "whenever suits", "stuck"))
    assert answer[-1].startswith("I'm sorry, I'm not getting this right. Would you like me")
    tracker = asyncio.run(bot.tracker_store.retrieve("stuck"))
    assert tracker is not None and tracker.active_loop_name is None
    assert tracker.latest_action_name == "action_listen"
    assert "action_book_appointment" not in [
        e.get("name") for e in (x.to_dict() for x in tracker.events) if e["event"] == "action"
    ]
    say(bot, "/affirm", "stuck")
    tracker = asyncio.run(bot.tracker_store.retrieve("stuck"))
    assert tracker is not None and tracker.is_paused()

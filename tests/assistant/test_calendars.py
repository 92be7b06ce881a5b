"""Both calendars keep the same promises: the local one (in the project's database, SQLite
or PostgreSQL) and CalDAV against a real Radicale server."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

from actions.integrations.caldav_calendar import CalDAVCalendar
from actions.integrations.calendar import (
    Appointment,
    Calendar,
    CalendarError,
    LocalCalendar,
    SlotTakenError,
)
from actions.integrations.database import database_at
from tests.services import Postgres, Radicale

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def local(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> LocalCalendar:
    if kind == "sqlite":
        return LocalCalendar(database_at(URL.create("sqlite", database=str(tmp_path / "c.db"))))
    server: Postgres = request.getfixturevalue("postgres")
    db = f"c{uuid.uuid4().hex[:10]}"
    server.psql(f"CREATE DATABASE {db}")
    url = make_url(server.url(db)).set(drivername="postgresql+psycopg")
    return LocalCalendar(database_at(url))


@pytest.fixture(params=["sqlite", "postgresql", "caldav"])
def calendar(request: pytest.FixtureRequest, tmp_path: Path) -> Calendar:
    if request.param != "caldav":
        return local(request.param, request, tmp_path)
    server: Radicale = request.getfixturevalue("radicale")
    return CalDAVCalendar(
        server.url, server.username, server.password, calendar=f"test-{uuid.uuid4().hex[:8]}"
    )


def test_a_booking_makes_its_time_busy(calendar: Calendar) -> None:
    booked = calendar.book(
        Appointment("haircut", at(26, 15), at(26, 15, 45), "Anna", "anna@example.com")
    )
    assert booked.id
    assert calendar.busy(at(26, 0), at(27, 0)) == [(at(26, 15), at(26, 15, 45))]
    assert calendar.busy(at(26, 16), at(26, 17)) == []


def test_an_overlapping_booking_is_refused(calendar: Calendar) -> None:
    calendar.book(Appointment("haircut", at(26, 15), at(26, 15, 45)))
    with pytest.raises(SlotTakenError):
        calendar.book(Appointment("beard trim", at(26, 15, 30), at(26, 15, 50)))
    calendar.book(Appointment("beard trim", at(26, 15, 45), at(26, 16, 5)))  # back to back


def test_an_appointment_moves_even_onto_its_own_time_and_a_taken_time_keeps_it(
    calendar: Calendar,
) -> None:
    old = calendar.book(Appointment("haircut", at(26, 15), at(26, 15, 45), "Ana", "a@x.org"))
    calendar.book(Appointment("beard trim", at(27, 10), at(27, 10, 20), "Bo", "b@x.org"))
    moved = calendar.move(old, Appointment("haircut", at(26, 15, 15), at(26, 16), "Ana", "a@x.org"))
    assert [(a.id, a.start) for a in calendar.upcoming("a@x.org", at(25, 0))] == [
        (moved.id, at(26, 15, 15))
    ]
    with pytest.raises(SlotTakenError):
        calendar.move(moved, Appointment("haircut", at(27, 10), at(27, 10, 45), "Ana", "a@x.org"))
    assert [a.start for a in calendar.upcoming("a@x.org", at(25, 0))] == [at(26, 15, 15)]
    far = calendar.move(moved, Appointment("haircut", at(28, 11), at(28, 11, 45), "Ana", "a@x.org"))
    assert [(a.id, a.start) for a in calendar.upcoming("a@x.org", at(25, 0))] == [
        (far.id, at(28, 11))
    ]


def test_a_customer_finds_and_cancels_an_appointment(calendar: Calendar) -> None:
    calendar.book(Appointment("colouring", at(27, 10), at(27, 12), "Ben", "ben@example.com"))
    calendar.book(Appointment("haircut", at(26, 9), at(26, 9, 45), "Ben", "ben@example.com"))
    calendar.book(Appointment("haircut", at(26, 11), at(26, 11, 45), "Cleo", "cleo@example.com"))
    mine = calendar.upcoming("BEN@example.com", at(25, 0))
    assert [(a.service, a.start) for a in mine] == [
        ("haircut", at(26, 9)),
        ("colouring", at(27, 10)),
    ]
    calendar.cancel(mine[0].id)
    assert [a.service for a in calendar.upcoming("ben@example.com", at(25, 0))] == ["colouring"]
    assert calendar.busy(at(26, 9), at(26, 10)) == []


def test_caldav_appointments_are_events_any_calendar_app_shows(radicale: Radicale) -> None:
    import caldav

    name = f"test-{uuid.uuid4().hex[:8]}"
    CalDAVCalendar(radicale.url, radicale.username, radicale.password, name).book(
        Appointment("haircut", at(26, 15), at(26, 15, 45), "Anna", "anna@example.com", "+44 1")
    )
    client = caldav.DAVClient(radicale.url, username=radicale.username, password=radicale.password)
    (found,) = [c for c in client.principal().calendars() if c.get_display_name() == name]
    (event,) = found.search(start=at(26, 0), end=at(27, 0), event=True)
    component = event.icalendar_component
    assert str(component["summary"]) == "haircut — Anna"
    assert "anna@example.com" in str(component["description"])


def test_a_caldav_server_that_is_down_or_refuses_is_a_calendar_error(
    radicale: Radicale,
) -> None:
    from caldav.lib.http_sync import requests as http

    from tests.services import free_port

    down = CalDAVCalendar(f"http://127.0.0.1:{free_port()}/", "x", "y", timeout=2)
    # what the client raises is its own HTTP library's (niquests here), not requests'
    assert http.RequestException in down._errors()
    with pytest.raises(CalendarError, match="cannot be reached"):
        down.busy(at(26, 0), at(27, 0))
    wrong = CalDAVCalendar(radicale.url, radicale.username, "not-the-password")
    with pytest.raises(CalendarError):
        wrong.busy(at(26, 0), at(27, 0))


def test_processes_opening_a_new_caldav_calendar_at_once_all_get_it(radicale: Radicale) -> None:
    """The first use makes the calendar; the action server and every replica's retry job
    starting together race to make it, and the losers use the winner's."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    start = threading.Barrier(6)

    def first_look(_: int) -> int:
        calendar = CalDAVCalendar(radicale.url, radicale.username, radicale.password, name)
        start.wait()
        return len(calendar.busy(at(26, 0), at(27, 0)))

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(first_look, range(6))) == [0] * 6


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_of_customers_booking_one_time_at_once_exactly_one_gets_it(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Each on a connection of its own, as from two server processes: the overlap check and
    the write cannot interleave."""
    calendar = local(kind, request, tmp_path)
    start = threading.Barrier(8)

    def book(customer: int) -> bool:
        start.wait()
        try:
            calendar.book(Appointment("haircut", at(26, 15, customer), at(26, 16), str(customer)))
        except SlotTakenError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        booked = list(pool.map(book, range(8)))
    assert booked.count(True) == 1
    assert len(calendar.busy(at(26, 0), at(27, 0))) == 1

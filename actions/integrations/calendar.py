"""Where appointments live: the local calendar (in the project's database) by default,
CalDAV for a real one.

`book` checks for an overlap and writes in one transaction, so two customers can never get
the same time, even from two server processes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from actions.integrations.database import (
    database,
    epoch,
    import_old_file,
    moment,
    now,
    write_lock,
)
from actions.integrations.tables import appointments


class CalendarError(Exception):
    """The calendar could not be read or written (down, refused, misconfigured)."""


class SlotTakenError(CalendarError):
    """Someone else booked an overlapping time first."""


@dataclass
class Appointment:
    service: str
    start: dt.datetime  # timezone-aware
    end: dt.datetime
    customer_name: str = ""
    email: str = ""
    phone: str = ""
    id: str = ""
    status: str = "booked"  # or "cancelled"


class Calendar(ABC):
    @abstractmethod
    def busy(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """Booked periods overlapping [start, end)."""

    @abstractmethod
    def book(self, appointment: Appointment) -> Appointment:
        """Store it (SlotTakenError if the time is no longer free); returns it with its id."""

    @abstractmethod
    def cancel(self, appointment_id: str) -> None:
        """Free the time of a booked appointment."""

    @abstractmethod
    def upcoming(self, email: str, after: dt.datetime) -> list[Appointment]:
        """A customer's booked appointments from `after` on, soonest first."""

    def forget(self, emails: list[str]) -> int:
        """Take the customer's name, address and number off their appointments (kept, so
        their times stay taken); how many. A calendar that cannot says 0."""
        return 0

    def move(self, old: Appointment, new: Appointment) -> Appointment:
        """Book `new` in place of `old` (SlotTakenError, with `old` kept, if its time is not
        free apart from `old`'s). The new time is booked before the old one is freed, unless
        they overlap; then a failed booking gives the old time back."""
        overlaps = new.start < old.end and old.start < new.end
        if not overlaps:
            booked = self.book(new)
            self.cancel(old.id)
            return booked
        self.cancel(old.id)
        try:
            return self.book(new)
        except CalendarError:
            self.book(dataclasses.replace(old, id=""))
            raise


class LocalCalendar(Calendar):
    """The calendar in the project's database. A booking's overlap check and its write are
    one transaction under the calendar's lock: two customers never get the same time, even
    from two server processes or two machines."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _writing(self, doing: str) -> Iterator[Connection]:
        try:
            with self.engine.begin() as db:
                write_lock(db, "assistant_appointments")
                yield db
        except SQLAlchemyError as error:
            raise CalendarError(f"the calendar could not {doing}: {error}") from error

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as db:
                yield db
        except SQLAlchemyError as error:
            raise CalendarError(f"the calendar cannot be read: {error}") from error

    @staticmethod
    def _overlapping(start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
        return and_(
            appointments.c.status == "booked",
            appointments.c.starts_at < epoch(end),
            appointments.c.ends_at > epoch(start),
        )

    @staticmethod
    def _insert(db: Connection, appointment: Appointment) -> None:
        db.execute(
            insert(appointments).values(
                id=appointment.id,
                service=appointment.service,
                starts_at=epoch(appointment.start),
                ends_at=epoch(appointment.end),
                customer_name=appointment.customer_name,
                email=appointment.email,
                phone=appointment.phone,
                status="booked",
                created_at=now(),
            )
        )

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        query = (
            select(appointments.c.starts_at, appointments.c.ends_at)
            .where(self._overlapping(start, end))
            .order_by(appointments.c.starts_at)
        )
        with self._reading() as db:
            return [(moment(row.starts_at), moment(row.ends_at)) for row in db.execute(query)]

    def book(self, appointment: Appointment) -> Appointment:
        appointment.id = appointment.id or uuid.uuid4().hex[:12]
        with self._writing("store the booking") as db:
            taken = db.execute(
                select(appointments.c.id).where(
                    self._overlapping(appointment.start, appointment.end)
                )
            ).first()
            if taken:
                raise SlotTakenError("that time was booked by someone else")
            self._insert(db, appointment)
        return appointment

    def move(self, old: Appointment, new: Appointment) -> Appointment:
        """One transaction: the new time checked against every booking but `old`, then `old`
        freed and `new` stored."""
        new.id = new.id or uuid.uuid4().hex[:12]
        with self._writing("move the booking") as db:
            taken = db.execute(
                select(appointments.c.id).where(
                    self._overlapping(new.start, new.end), appointments.c.id != old.id
                )
            ).first()
            if taken:
                raise SlotTakenError("that time was booked by someone else")
            db.execute(
                update(appointments).where(appointments.c.id == old.id).values(status="cancelled")
            )
            self._insert(db, new)
        return new

    def cancel(self, appointment_id: str) -> None:
        with self._writing("cancel the booking") as db:
            db.execute(
                update(appointments)
                .where(appointments.c.id == appointment_id)
                .values(status="cancelled")
            )

    def forget(self, emails: list[str]) -> int:
        wanted = [email.lower() for email in emails if email]
        if not wanted:
            return 0
        with self._writing("forget a customer") as db:
            done = db.execute(
                update(appointments)
                .where(func.lower(appointments.c.email).in_(wanted))
                .values(customer_name="", email="", phone="")
            )
            return int(done.rowcount or 0)

    def upcoming(self, email: str, after: dt.datetime) -> list[Appointment]:
        query = (
            select(appointments)
            .where(
                appointments.c.status == "booked",
                func.lower(appointments.c.email) == email.lower(),
                appointments.c.starts_at >= epoch(after),
            )
            .order_by(appointments.c.starts_at)
        )
        with self._reading() as db:
            return [
                Appointment(
                    row.service,
                    moment(row.starts_at),
                    moment(row.ends_at),
                    row.customer_name,
                    row.email,
                    row.phone,
                    row.id,
                )
                for row in db.execute(query)
            ]


_CALDAV: dict[tuple[Any, ...], Calendar] = {}


def calendar_from_settings(settings: dict[str, Any], project: Path) -> Calendar:
    kind = str(settings.get("type") or "local").lower()
    if kind in ("local", "sqlite"):  # "sqlite": business.yml files of earlier versions
        try:
            engine = database(project)
        except SQLAlchemyError as error:
            raise CalendarError(f"the project's database cannot be opened: {error}") from error
        if settings.get("path"):  # an earlier version's calendar file, imported once
            path = Path(str(settings["path"]))
            import_old_file(engine, path if path.is_absolute() else project / path, "calendar")
        return LocalCalendar(engine)
    if kind == "caldav":
        from actions.integrations.caldav_calendar import DEFAULT_CALENDAR, CalDAVCalendar

        if not settings.get("url"):
            raise CalendarError("a caldav calendar needs its url in business.yml")
        key = (settings["url"], settings.get("username"), settings.get("calendar"))
        if key not in _CALDAV:  # keep the connection and the discovered calendar
            _CALDAV[key] = CalDAVCalendar(
                str(settings["url"]),
                settings.get("username"),
                settings.get("password"),
                str(settings.get("calendar") or DEFAULT_CALENDAR),
                float(settings.get("timeout") or 10),
            )
        return _CALDAV[key]
    raise CalendarError(f"unknown calendar type '{kind}' in business.yml (use local or caldav)")

"""Where appointments live: a local SQLite calendar by default, CalDAV for a real one.

`book` checks for an overlap and writes in one transaction, so two customers can never get
the same time, even from two server processes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


class SQLiteCalendar(Calendar):
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(
                """CREATE TABLE IF NOT EXISTS appointments (
                    id TEXT PRIMARY KEY, service TEXT NOT NULL,
                    start TEXT NOT NULL, end TEXT NOT NULL,
                    customer_name TEXT, email TEXT, phone TEXT,
                    status TEXT NOT NULL DEFAULT 'booked', created TEXT NOT NULL)"""
            )
            db.execute("CREATE INDEX IF NOT EXISTS appointments_start ON appointments (start)")

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as error:
            raise CalendarError(f"cannot open the calendar {self.path}: {error}") from error
        db.row_factory = sqlite3.Row
        return db

    @staticmethod
    def _utc(moment: dt.datetime) -> str:
        # Stored in UTC so that text order is time order.
        return moment.astimezone(dt.UTC).isoformat()

    def _insert(self, db: sqlite3.Connection, appointment: Appointment) -> None:
        db.execute(
            "INSERT INTO appointments VALUES (?, ?, ?, ?, ?, ?, ?, 'booked', ?)",
            (
                appointment.id,
                appointment.service,
                self._utc(appointment.start),
                self._utc(appointment.end),
                appointment.customer_name,
                appointment.email,
                appointment.phone,
                dt.datetime.now(dt.UTC).isoformat(),
            ),
        )

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT start, end FROM appointments WHERE status = 'booked' "
                "AND start < ? AND end > ? ORDER BY start",
                (self._utc(end), self._utc(start)),
            ).fetchall()
        return [
            (dt.datetime.fromisoformat(r["start"]), dt.datetime.fromisoformat(r["end"]))
            for r in rows
        ]

    def book(self, appointment: Appointment) -> Appointment:
        appointment.id = appointment.id or uuid.uuid4().hex[:12]
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")  # one writer: the overlap check and insert are atomic
            taken = db.execute(
                "SELECT 1 FROM appointments WHERE status = 'booked' AND start < ? AND end > ?",
                (self._utc(appointment.end), self._utc(appointment.start)),
            ).fetchone()
            if taken:
                db.execute("ROLLBACK")
                raise SlotTakenError("that time was booked by someone else")
            self._insert(db, appointment)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise CalendarError(f"the calendar could not store the booking: {error}") from error
        finally:
            db.close()
        return appointment

    def move(self, old: Appointment, new: Appointment) -> Appointment:
        """One transaction: the new time checked against every booking but `old`, then `old`
        freed and `new` stored."""
        new.id = new.id or uuid.uuid4().hex[:12]
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            taken = db.execute(
                "SELECT 1 FROM appointments WHERE status = 'booked' AND id != ? "
                "AND start < ? AND end > ?",
                (old.id, self._utc(new.end), self._utc(new.start)),
            ).fetchone()
            if taken:
                db.execute("ROLLBACK")
                raise SlotTakenError("that time was booked by someone else")
            db.execute("UPDATE appointments SET status = 'cancelled' WHERE id = ?", (old.id,))
            self._insert(db, new)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise CalendarError(f"the calendar could not move the booking: {error}") from error
        finally:
            db.close()
        return new

    def cancel(self, appointment_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE appointments SET status = 'cancelled' WHERE id = ?", (appointment_id,)
            )

    def upcoming(self, email: str, after: dt.datetime) -> list[Appointment]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM appointments WHERE status = 'booked' AND lower(email) = lower(?) "
                "AND start >= ? ORDER BY start",
                (email, self._utc(after)),
            ).fetchall()
        return [
            Appointment(
                r["service"],
                dt.datetime.fromisoformat(r["start"]),
                dt.datetime.fromisoformat(r["end"]),
                r["customer_name"] or "",
                r["email"] or "",
                r["phone"] or "",
                r["id"],
            )
            for r in rows
        ]


_CALDAV: dict[tuple[Any, ...], Calendar] = {}


def calendar_from_settings(settings: dict[str, Any], project: Path) -> Calendar:
    kind = str(settings.get("type") or "sqlite").lower()
    if kind == "sqlite":
        path = Path(str(settings.get("path") or "calendar.db"))
        return SQLiteCalendar(path if path.is_absolute() else project / path)
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
    raise CalendarError(f"unknown calendar type '{kind}' in business.yml (use sqlite or caldav)")

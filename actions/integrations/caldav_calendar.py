"""A real calendar over CalDAV (Nextcloud, iCloud, Fastmail, Radicale...), with `caldav`.

Each appointment is one VEVENT whose UID is the appointment id; the customer's e-mail and
phone are in the description and as an ATTENDEE. CalDAV has no transactions, so a booking
is written and then checked: if an overlapping event appeared meanwhile and was there
first, ours is deleted again and the customer is offered another time.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from actions.integrations.calendar import Appointment, Calendar, CalendarError, SlotTakenError
from parlez.extras import install_hint

DEFAULT_CALENDAR = "appointments"


class CalDAVCalendar(Calendar):
    _lock = threading.Lock()  # one booking at a time from this process

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        calendar: str = DEFAULT_CALENDAR,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.calendar_name = calendar
        self.timeout = timeout
        self._calendar: Any = None

    def _errors(self) -> tuple[type[BaseException], ...]:
        """What the caldav client raises when the server is away or refuses: its own errors
        and those of the HTTP library it was installed with (niquests, else requests)."""
        import caldav.lib.error
        from caldav.lib.http_sync import requests as http

        return (caldav.lib.error.DAVError, http.RequestException, OSError)

    def _open(self) -> Any:
        if self._calendar is not None:
            return self._calendar
        try:
            import caldav
        except ImportError as error:
            raise CalendarError(
                f"the CalDAV calendar needs the caldav package: {install_hint('caldav')}"
            ) from error

        try:
            client = caldav.DAVClient(
                url=self.url, username=self.username, password=self.password, timeout=self.timeout
            )
            principal = client.principal()
            for found in principal.calendars():
                if found.get_display_name() == self.calendar_name or str(found.url).rstrip(
                    "/"
                ).endswith("/" + self.calendar_name):
                    self._calendar = found
                    break
            else:
                try:
                    self._calendar = principal.make_calendar(
                        name=self.calendar_name, cal_id=self.calendar_name
                    )
                except caldav.lib.error.MkcalendarError:
                    # Another process (a replica, the action server) made it a moment ago.
                    self._calendar = principal.calendar(cal_id=self.calendar_name)
        except self._errors() as error:
            raise CalendarError(
                f"the CalDAV calendar at {self.url} cannot be reached: {error}"
            ) from error
        return self._calendar

    def _events(self, start: dt.datetime, end: dt.datetime) -> list[tuple[Any, Any]]:
        calendar = self._open()
        try:
            found = calendar.search(start=start, end=end, event=True, expand=True)
        except self._errors() as error:
            raise CalendarError(f"the CalDAV calendar cannot be searched: {error}") from error
        events = []
        for item in found:
            component = item.icalendar_component
            if str(component.get("status", "")).upper() == "CANCELLED":
                continue
            events.append((item, component))
        return events

    @staticmethod
    def _period(component: Any) -> tuple[dt.datetime, dt.datetime]:
        start = component.get("dtstart").dt
        end = component.get("dtend").dt if component.get("dtend") else start
        if not isinstance(start, dt.datetime):  # an all-day event blocks the whole day
            start = dt.datetime.combine(start, dt.time(), dt.UTC)
            end = dt.datetime.combine(
                end if end != start else start + dt.timedelta(days=1), dt.time(), dt.UTC
            )
        return start, end

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        periods = [self._period(c) for _, c in self._events(start, end)]
        return sorted(p for p in periods if p[0] < end and start < p[1])

    def book(self, appointment: Appointment) -> Appointment:
        appointment.id = appointment.id or uuid.uuid4().hex[:12]
        with self._lock:
            if self.busy(appointment.start, appointment.end):
                raise SlotTakenError("that time was booked by someone else")
            calendar = self._open()
            try:
                calendar.save_event(
                    dtstart=appointment.start,
                    dtend=appointment.end,
                    uid=appointment.id,
                    summary=f"{appointment.service} — {appointment.customer_name}".strip(" —"),
                    description=f"E-mail: {appointment.email}\nPhone: {appointment.phone}\n"
                    "Booked by the assistant.",
                )
            except self._errors() as error:
                raise CalendarError(f"the CalDAV calendar refused the booking: {error}") from error
            # Another process may have written an overlapping event meanwhile: the one whose
            # UID sorts first keeps the time (both sides decide the same way).
            rivals = [
                str(c.get("uid"))
                for _, c in self._events(appointment.start, appointment.end)
                if str(c.get("uid")) != appointment.id
            ]
            if any(rival < appointment.id for rival in rivals):
                self.cancel(appointment.id)
                raise SlotTakenError("that time was booked by someone else")
        return appointment

    def cancel(self, appointment_id: str) -> None:
        calendar = self._open()
        try:
            calendar.event_by_uid(appointment_id).delete()
        except self._errors() as error:
            raise CalendarError(
                f"the appointment {appointment_id} cannot be cancelled: {error}"
            ) from error

    def upcoming(self, email: str, after: dt.datetime) -> list[Appointment]:
        found = []
        for _, component in self._events(after, after + dt.timedelta(days=366)):
            description = str(component.get("description", ""))
            if f"e-mail: {email.lower()}" not in description.lower():
                continue
            start, end = self._period(component)
            summary = str(component.get("summary", ""))
            service, _, name = summary.partition(" — ")
            found.append(
                Appointment(service, start, end, name, email, "", str(component.get("uid")))
            )
        return sorted(found, key=lambda a: a.start)

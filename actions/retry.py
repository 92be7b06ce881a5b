"""Retrying what waited in the outbox while a calendar, CRM or mail server was down.

`parlez run` runs `retry_all` every 5 minutes on one replica (`jobs:` in endpoints.yml); by
hand, in the project folder:

    python -m actions.retry

Bookings and moves that waited are made now and confirmed to the customer; one whose time
was taken meanwhile goes to the business by e-mail, to be sorted out by a person. E-mails
that waited are sent; leads not yet in the CRM are synced. Each kind stops at its first
failure (the service is still down) and keeps the rest for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

from actions.booking import confirm_by_email
from actions.business import Business, business
from actions.integrations.calendar import (
    Appointment,
    Calendar,
    CalendarError,
    SlotTakenError,
)
from actions.integrations.crm import CRMError, crm_from_settings, sync_pending
from actions.integrations.outbox import Claim
from actions.services import calendar, lead_store, mailer, now, outbox, send_email

logger = logging.getLogger(__name__)


def _moment(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value))


def _tell_the_team(settings: Business, subject: str, text: str) -> None:
    to = settings.contact.notify or settings.contact.email
    if to:
        send_email(settings, to, subject, text)


def _calendar(settings: Business) -> Calendar | None:
    try:
        return calendar(settings)
    except CalendarError as error:
        logger.warning("the calendar is still down: %s", error)
        return None


def retry_bookings(settings: Business) -> int:
    """Make the bookings that waited; the number made (or handed to the team)."""
    with outbox().claimed("booking") as waiting:
        return _retry_bookings(settings, waiting)


def _retry_bookings(settings: Business, waiting: Claim) -> int:
    handled = 0
    cal = _calendar(settings) if waiting.items else None
    for item_id, request in waiting.items if cal else []:
        service = settings.service(str(request.get("service")))
        appointment = Appointment(
            service=str(request["service"]),
            start=_moment(request["start"]),
            end=_moment(request["end"]),
            customer_name=str(request.get("customer_name") or ""),
            email=str(request.get("email") or ""),
            phone=str(request.get("phone") or ""),
        )
        try:
            booked = cal.book(appointment)
        except SlotTakenError:
            _tell_the_team(
                settings,
                f"A booking could not be made: {appointment.customer_name or appointment.email}",
                f"{appointment.customer_name} <{appointment.email}> asked for a "
                f"{appointment.service} at {appointment.start:%Y-%m-%d %H:%M} while the calendar "
                "was down. That time has been taken since: please offer them another one.",
            )
        except CalendarError as error:
            logger.warning("the calendar is still down: %s", error)
            break
        else:
            duration = service.duration if service else 0
            confirm_by_email(settings, booked, duration, str(request.get("language") or "en"))
        waiting.done(item_id)
        handled += 1
    return handled


def retry_moves(settings: Business) -> int:
    """Make the moves that waited; the number made (or handed to the team)."""
    with outbox().claimed("reschedule") as waiting:
        return _retry_moves(settings, waiting)


def _retry_moves(settings: Business, waiting: Claim) -> int:
    handled = 0
    cal = _calendar(settings) if waiting.items else None
    for item_id, request in waiting.items if cal else []:
        email = str(request.get("email") or "")
        try:
            current = cal.upcoming(email, now())
            old = next((a for a in current if a.id == request.get("appointment_id")), None)
            if old is None:  # cancelled, or already past: nothing to move
                raise SlotTakenError("the appointment is no longer booked")
            service = settings.service(old.service)
            start = _moment(request["start"])
            duration = service.duration if service else int((old.end - old.start).seconds / 60)
            new = Appointment(
                old.service,
                start,
                start + dt.timedelta(minutes=duration),
                old.customer_name,
                old.email,
                old.phone,
            )
            moved = cal.move(old, new)
        except SlotTakenError as why:
            _tell_the_team(
                settings,
                f"An appointment could not be moved: {email}",
                f"{email} asked to move their appointment to {request.get('start')} while the "
                f"calendar was down, and that could not be done now ({why}). Please contact them.",
            )
        except CalendarError as error:
            logger.warning("the calendar is still down: %s", error)
            break
        else:
            confirm_by_email(settings, moved, duration)
        waiting.done(item_id)
        handled += 1
    return handled


def retry_all(settings: Business | None = None) -> dict[str, int]:
    settings = settings or business()
    done = {"bookings": retry_bookings(settings), "moves": retry_moves(settings)}
    done["e-mails"] = mailer(settings).flush()
    try:
        done["leads"] = sync_pending(lead_store(), crm_from_settings(settings.crm))
    except CRMError as error:
        logger.error("the CRM settings are not usable: %s", error)
        done["leads"] = 0
    return done


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    done = retry_all()
    print(", ".join(f"{count} {kind}" for kind, count in done.items()) + " retried")
    return 0


if __name__ == "__main__":
    sys.exit(main())

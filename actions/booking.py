"""Booking an appointment: the form's validation, then the booking itself.

The form asks for the service, the time, a name and an e-mail. The time is checked against
the business's hours and the calendar as soon as it is given; when it is not free, the
closest free times are offered as buttons. The booking is written in one transaction, so
nobody else can take the time in between; a calendar that is down keeps the request in the
outbox and the customer is told the team will confirm.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, Service, business
from actions.integrations.calendar import (
    Appointment,
    Calendar,
    CalendarError,
    SlotTakenError,
    calendar_from_settings,
)
from actions.integrations.email import Mailer, compose, render
from actions.integrations.outbox import Outbox
from actions.language import LOCALES, language_of
from actions.scheduling import (
    Wanted,
    best_time,
    full_date,
    in_period,
    is_free,
    names_a_weekday,
    spoken,
    suggestions,
    understand_time,
)
from actions.validation import CustomerDetails, OffersAPersonWhenStuck

logger = logging.getLogger(__name__)


def now() -> dt.datetime:
    """The current time (tests set `PARLEZ_NOW` to an ISO time to fix it)."""
    fixed = os.environ.get("PARLEZ_NOW")
    return dt.datetime.fromisoformat(fixed) if fixed else dt.datetime.now(dt.UTC)


def project() -> Path:
    return Path(os.environ.get("PARLEZ_PROJECT", ".")).resolve()


def calendar(settings: Business) -> Calendar:
    return calendar_from_settings(settings.booking.calendar, project())


def outbox() -> Outbox:
    return Outbox(project() / "outbox.db")


def time_buttons(
    times: list[dt.datetime], settings: Business, at: dt.datetime, language: str = "en"
) -> list[dict[str, str]]:
    return [
        {
            "title": spoken(moment, settings, at, language),
            "payload": f'/inform{{"time": "{moment.isoformat()}"}}',
        }
        for moment in times
    ]


def mailer(settings: Business) -> Mailer:
    folder = Path(str(settings.email.get("folder") or "mail"))
    return Mailer(settings.email, outbox(), folder if folder.is_absolute() else project() / folder)


def send_email(
    settings: Business, to: str, subject: str, text: str, page: str | None = None
) -> bool:
    """From the business's address (`email.from`): sent now, or kept in the outbox until it
    can be; False when it had to wait."""
    sender = settings.email.get("from") or settings.contact.email or "assistant@localhost"
    return mailer(settings).send(compose(sender, to, subject, text, page))


#: the confirmation's subject in each language
CONFIRMATION_SUBJECTS = {
    "en": "Your {service} at {business}",
    "fr": "Votre rendez-vous ({service}) chez {business}",
    "de": "Ihr Termin ({service}) bei {business}",
    "es": "Su cita ({service}) en {business}",
}


def confirm_by_email(
    settings: Business, booked: Appointment, duration: int, language: str = "en"
) -> None:
    """The customer's confirmation, in their language: sent now, or kept in the outbox
    until it can be."""
    service = settings.called(booked.service, language)
    text, page = render(
        "booking_confirmation",
        {
            "customer_name": booked.customer_name or "there",
            "business": settings.name,
            "service": service,
            "when": full_date(booked.start, settings, language),
            "duration": duration,
            "address": settings.address,
            "phone": settings.contact.phone or "",
        },
        language,
    )
    subject = CONFIRMATION_SUBJECTS.get(language, CONFIRMATION_SUBJECTS["en"])
    send_email(
        settings, booked.email, subject.format(service=service, business=settings.name), text, page
    )


def _period_asked_before(
    tracker: Tracker, settings: Business, at: dt.datetime, locale: str
) -> tuple[dt.datetime, dt.datetime] | None:
    """The period ("next week") of the customer's last earlier message that said a time, if
    that was a period still ahead; e-mails and yeses said in between are passed over."""
    texts = [str(e.get("text") or "") for e in tracker.events if e.get("event") == "user"]
    for text in reversed(texts[-5:-1]):
        earlier: Wanted | None = (
            None if text.startswith("/") else best_time([text], settings, at, locale)
        )
        if earlier is None:
            continue
        if earlier.period is None or earlier.period[1] <= at:
            return None
        return earlier.period
    return None


async def choose_time(
    value: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    moving: tuple[dt.datetime, dt.datetime] | None = None,
    service: Service | None = None,
) -> dict[str, Any]:
    """The `appointment_time` a form keeps: a free start for `service` (default: the
    `service` slot's), or None with free times offered as buttons. `moving`: the time of
    the appointment being moved."""
    settings = business()
    service = service or settings.service(tracker.get_slot("service"))
    at = now()
    message = str(tracker.latest_message.get("text") or "")
    lang = language_of(tracker)
    said = [str(value or ""), "" if message.startswith("/") else message]
    wanted = best_time(said, settings, at, LOCALES[lang])
    if wanted is None:
        dispatcher.utter_message(response="utter_time_not_understood")
        return {"appointment_time": None}
    if wanted.start is not None and any(names_a_weekday(text) for text in said):
        earlier = _period_asked_before(tracker, settings, at, LOCALES[lang])
        wanted = in_period(wanted, earlier) if earlier else wanted
    if service is None:  # the time came first: keep it, check it once the service is known
        return {"appointment_time": value}
    cal = calendar(settings)
    try:
        if wanted.start is not None and await asyncio.to_thread(
            is_free, settings, cal, service, wanted.start, at, moving
        ):
            return {"appointment_time": wanted.start.isoformat()}
        offers = await asyncio.to_thread(suggestions, settings, cal, service, wanted, at, 3, moving)
    except CalendarError as error:
        logger.error("the calendar cannot be read: %s", error)
        # Take the time as asked; the booking step keeps it for the team to confirm.
        return {"appointment_time": wanted.start.isoformat() if wanted.start else value}
    if not offers:
        dispatcher.utter_message(response="utter_no_free_time", service=service.called(lang))
        return {"appointment_time": None}
    buttons = time_buttons(offers, settings, at, lang)
    if wanted.start is None:
        dispatcher.utter_message(response="utter_free_times", buttons=buttons)
    else:
        asked = spoken(wanted.start, settings, at, lang)
        dispatcher.utter_message(
            response="utter_time_not_available",
            asked=asked[:1].upper() + asked[1:],
            buttons=buttons,
        )
    return {"appointment_time": None}


class ValidateBookingForm(OffersAPersonWhenStuck, CustomerDetails, FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        settings = business()
        service = settings.service(str(value) if value else None)
        if service is None:
            # The model may tag only part of a name ("blow" of "blow dry"): the message
            # itself may still name a service.
            service = settings.service(tracker.latest_message.get("text"))
        if service is None:
            names = ", ".join(s.called(language_of(tracker)) for s in settings.services)
            dispatcher.utter_message(response="utter_our_services", services=names)
            return {"service": None}
        chosen: dict[str, Any] = {"service": service.name}
        earlier = tracker.get_slot("appointment_time")
        if earlier and "appointment_time" not in tracker.slots_to_validate():
            # The time came before the service ("on the 2nd of December") and could not be
            # checked then: check it now, or offer the free times of that day.
            chosen.update(await choose_time(earlier, dispatcher, tracker, service=service))
        return chosen

    async def validate_appointment_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return await choose_time(value, dispatcher, tracker)


class ActionBookAppointment(Action):
    def name(self) -> str:
        return "action_book_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = business()
        at = now()
        service = settings.service(tracker.get_slot("service"))
        wanted = understand_time(str(tracker.get_slot("appointment_time") or ""), settings, at)
        if service is None or wanted is None or wanted.start is None:
            dispatcher.utter_message(response="utter_booking_incomplete")
            return [SlotSet("appointment_time", None), FollowupAction("booking_form")]
        appointment = Appointment(
            service=service.name,
            start=wanted.start,
            end=wanted.start + dt.timedelta(minutes=service.duration),
            customer_name=str(tracker.get_slot("customer_name") or ""),
            email=str(tracker.get_slot("email") or ""),
            phone=str(tracker.get_slot("phone") or ""),
        )
        lang = language_of(tracker)
        when = spoken(appointment.start, settings, at, lang)
        try:
            cal = calendar(settings)
            # The time may have been given before the service, when it could not be checked.
            if not await asyncio.to_thread(is_free, settings, cal, service, appointment.start, at):
                raise SlotTakenError(f"{when} is not free for a {service.name}")
            booked = await asyncio.to_thread(cal.book, appointment)
        except SlotTakenError:
            dispatcher.utter_message(
                response="utter_time_just_taken", when=when, service=service.called(lang)
            )
            return [SlotSet("appointment_time", None), FollowupAction("booking_form")]
        except CalendarError as error:
            logger.error("booking failed, kept in the outbox: %s", error)
            await asyncio.to_thread(
                outbox().put,
                "booking",
                {**appointment.__dict__, "sender": tracker.sender_id, "language": lang},
                str(error),
            )
            dispatcher.utter_message(
                response="utter_booking_queued",
                customer_name=appointment.customer_name,
                service=service.called(lang),
                when=when,
                email=appointment.email,
            )
            return [SlotSet("booking_id", None)]
        await asyncio.to_thread(confirm_by_email, settings, booked, service.duration, lang)
        dispatcher.utter_message(
            response="utter_booked",
            customer_name=booked.customer_name,
            service=service.called(lang),
            when=when,
            duration=service.duration,
            email=booked.email,
        )
        return [SlotSet("booking_id", booked.id)]

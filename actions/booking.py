"""Booking an appointment: the form's validation, the confirmation, then the booking itself.

The form asks for the service, the time, a name and an e-mail, then confirms the booking in
full ("Shall I book a haircut on Friday 8 March at 14:00?") and books only after a yes.
Every answer is read for a time and a service, whatever was asked: a correction given in
answer to the name question changes the time and is never taken for a name. The time is
checked against the business's hours and the calendar as soon as it is given; when it is
not free, the closest free times are offered as buttons. The booking is written in one
transaction, so nobody else can take the time in between; a calendar that is down keeps
the request in the outbox and the customer is told the team will confirm.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.appointment_time import (
    TimeInEveryAnswer,
    choose_time,
    is_about_time,
    kept,
    reader,
    slot_before_this_turn,
)
from actions.business import Business, BusinessSettingsError, business
from actions.integrations.calendar import Appointment, CalendarError, SlotTakenError
from actions.language import language_of
from actions.scheduling import full_date, in_full, is_free
from actions.services import calendar, now, outbox, send_template
from actions.validation import CustomerDetails, OffersAPersonWhenStuck
from actions.when import CLOCK_SLOT, DAY_SLOT, PART_SLOT, understand_time

logger = logging.getLogger(__name__)

#: what "What would you like to change?" can be answered with, in the four languages
CHANGEABLE = {
    "appointment_time": r"time|day|date|when|hour|heure|jour|date|quand|zeit|tag|datum|uhr"
    r"|wann|hora|día|dia|fecha|cuándo",
    "service": r"service|treatment|prestation|leistung|behandlung|servicio|tratamiento",
    "customer_name": r"name|nom|nombre",
    "email": r"e-?mail|address|adresse|courriel|correo|dirección",
}
#: the slots a finished (or restarted) booking forgets
BOOKING_SLOTS = (
    "service",
    "appointment_time",
    DAY_SLOT,
    CLOCK_SLOT,
    PART_SLOT,
    "booking_confirmed",
    "booking_change",
)


#: the confirmation's subject in each language
CONFIRMATION_SUBJECTS = {
    "en": "Your {service} at {business}",
    "fr": "Votre rendez-vous ({service}) chez {business}",
    "de": "Ihr Termin ({service}) bei {business}",
    "es": "Su cita ({service}) en {business}",
}


def confirmation_values(
    settings: Business, booked: Appointment, duration: int, language: str = "en"
) -> dict[str, Any]:
    """What the booking confirmation's templates say (actions/templates/booking_confirmation.*)."""
    return {
        "customer_name": booked.customer_name or "there",
        "business": settings.name,
        "service": settings.called(booked.service, language),
        "when": full_date(booked.start, settings, language),
        "duration": duration,
        "address": settings.address,
        "phone": settings.contact.phone or "",
    }


def confirm_by_email(
    settings: Business, booked: Appointment, duration: int, language: str = "en"
) -> None:
    """The customer's confirmation, in their language: sent now, or kept in the outbox
    until it can be."""
    values = confirmation_values(settings, booked, duration, language)
    subject = CONFIRMATION_SUBJECTS.get(language, CONFIRMATION_SUBJECTS["en"])
    subject = subject.format(service=values["service"], business=settings.name)
    send_template(settings, booked.email, subject, "booking_confirmation", values, language)


def booked_start(tracker: Tracker, settings: Business) -> dt.datetime | None:
    """The start the booking will be made at: what the confirmation says and what the
    calendar is given are both this one value."""
    wanted = understand_time(str(tracker.get_slot("appointment_time") or ""), settings, now())
    return wanted.start if wanted else None


def named_field(text: str) -> str | None:
    """The booking detail an answer to "What would you like to change?" names."""
    lowered = text.lower()
    for slot, words in CHANGEABLE.items():
        if re.search(rf"\b(?:{words})\b", lowered):
            return slot
    return None


class ValidateBookingForm(
    OffersAPersonWhenStuck, TimeInEveryAnswer, CustomerDetails, FormValidationAction
):
    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        """`booking_change` only after a "no" to the confirmation: what to change is asked
        before the confirmation comes again."""
        if tracker.get_slot("booking_confirmed") is False:
            return domain_slots
        return [slot for slot in domain_slots if slot != "booking_change"]

    async def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        settings = business()
        chosen_before = slot_before_this_turn(tracker, "service")
        # Answering another question, a service chosen before changes only for one named
        # outright: "Hart" of "Cosmo Hart", tagged as a service, is no misspelt "Bart"
        close = not chosen_before or tracker.get_slot("requested_slot") == "service"
        service = settings.service(str(value) if value else None, close)
        if service is None:
            # The model may tag only part of a name ("blow" of "blow dry"): the message
            # itself may still name a service.
            service = settings.service(tracker.latest_message.get("text"), close)
        if service is None and chosen_before and tracker.get_slot("requested_slot") != "service":
            # A word of another answer ("March 8th is better") taken for a service: the
            # service the customer chose stays.
            return {"service": chosen_before}
        if service is None:
            names = ", ".join(s.called(language_of(tracker)) for s in settings.services)
            dispatcher.utter_message(response="utter_our_services", services=names)
            return {"service": None}
        chosen: dict[str, Any] = {"service": service.name}
        if "appointment_time" not in tracker.slots_to_validate():
            # The time came before the service ("on the 2nd of December"), or the service
            # changed: check the time for this service now, or offer the free times.
            settled = tracker.get_slot("appointment_time")
            waiting = not settled and (tracker.get_slot(DAY_SLOT) or kept(tracker, reader(tracker)))
            if waiting or (settled and service.name != chosen_before):
                chosen.update(await choose_time(None, dispatcher, tracker, service=service))
        return chosen

    async def validate_appointment_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return await choose_time(value, dispatcher, tracker)

    def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if self._changes_the_booking(tracker):
            return {"customer_name": slot_before_this_turn(tracker, "customer_name")}
        return super().validate_customer_name(value, dispatcher, tracker, domain)

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if self._changes_the_booking(tracker):
            return {"email": slot_before_this_turn(tracker, "email")}
        return super().validate_email(value, dispatcher, tracker, domain)

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if self._changes_the_booking(tracker):
            return {"booking_confirmed": None}  # asked again, with the change
        # A no: `required_slots` asks what to change next.
        return {"booking_confirmed": value if isinstance(value, bool) else None}

    def extract_booking_change(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """The answer to "What would you like to change?", whatever intent the NLU gave it
        ("the time" may read as a question about opening hours); a "no" stops the form."""
        message = str(tracker.latest_message.get("text") or "")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") != "booking_change" or message.startswith("/"):
            return {}
        return {} if intent == "deny" else {"booking_change": message}

    def validate_booking_change(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if self._changes_the_booking(tracker):
            return {"booking_change": None, "booking_confirmed": None}
        slot = str(value) if value in CHANGEABLE else named_field(str(value or ""))
        if slot is None:
            return {"booking_change": None}  # asked again
        forget: dict[str, Any] = {"booking_change": None, "booking_confirmed": None, slot: None}
        if slot == "appointment_time":
            forget.update({DAY_SLOT: None, CLOCK_SLOT: None, PART_SLOT: None})
        return forget

    def _changes_the_booking(self, tracker: Tracker) -> bool:
        """Whether the latest answer changes the time or the service ("actually, the 11th
        instead", "make it a beard trim"): then it is not a name, an e-mail or a yes."""
        if is_about_time(tracker):
            return True
        said = business().service(tracker.latest_message.get("text"), close=False)
        chosen = slot_before_this_turn(tracker, "service")
        asked = tracker.get_slot("requested_slot")
        return said is not None and chosen is not None and said.name != chosen and asked != "email"


class ActionAskBookingConfirmed(Action):
    """Reads the booking back in full before it is made, with Yes and Change buttons."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = business()
        service = settings.service(tracker.get_slot("service"))
        start = booked_start(tracker, settings)
        if service is None or start is None:
            dispatcher.utter_message(response="utter_booking_incomplete")
            return [SlotSet("appointment_time", None)]
        lang = language_of(tracker)
        dispatcher.utter_message(
            response="utter_confirm_booking",
            service=service.called(lang),
            when=in_full(start, settings, now(), lang),
            duration=service.duration,
            customer_name=tracker.get_slot("customer_name"),
            email=tracker.get_slot("email"),
        )
        return []


class ActionReadStrayAnswer(Action):
    """An answer nobody asked for, in which the NLU tagged nothing ("haarschnitt bitte", read
    as `inform` with no entity): a service the catalogue names in it, in any of its
    languages, starts a booking of that service; anything else is greeted with what the
    assistant can do."""

    def name(self) -> str:
        return "action_read_stray_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        try:
            service = business().service(text, close=False)
        except BusinessSettingsError as error:
            logger.error("a stray answer is not read for a service: %s", error)
            service = None
        if service is None:
            return [FollowupAction("utter_greet")]
        return [SlotSet("service", service.name), FollowupAction("booking_form")]


class ActionBookAppointment(Action):
    def name(self) -> str:
        return "action_book_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = business()
        at = now()
        service = settings.service(tracker.get_slot("service"))
        start = booked_start(tracker, settings)
        if service is None or start is None or tracker.get_slot("booking_confirmed") is not True:
            dispatcher.utter_message(response="utter_booking_incomplete")
            return [
                SlotSet("appointment_time", None),
                SlotSet("booking_confirmed", None),
                FollowupAction("booking_form"),
            ]
        appointment = Appointment(
            service=service.name,
            start=start,
            end=start + dt.timedelta(minutes=service.duration),
            customer_name=str(tracker.get_slot("customer_name") or ""),
            email=str(tracker.get_slot("email") or ""),
            phone=str(tracker.get_slot("phone") or ""),
        )
        lang = language_of(tracker)
        when = in_full(appointment.start, settings, at, lang)
        again = [SlotSet("appointment_time", None), SlotSet("booking_confirmed", None)]
        try:
            cal = calendar(settings)
            # Taken since the customer was offered it, or given before the service was known.
            if not await asyncio.to_thread(is_free, settings, cal, service, appointment.start, at):
                raise SlotTakenError(f"{when} is not free for a {service.name}")
            booked = await asyncio.to_thread(cal.book, appointment)
        except SlotTakenError:
            dispatcher.utter_message(
                response="utter_time_just_taken", when=when, service=service.called(lang)
            )
            return [*again, FollowupAction("booking_form")]
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
            return [SlotSet("booking_id", None), *forget_booking()]
        try:
            await asyncio.to_thread(confirm_by_email, settings, booked, service.duration, lang)
        except Exception:  # the appointment is made: the customer is told so all the same
            logger.exception("%s is booked, but the confirmation e-mail was not sent", booked.id)
        dispatcher.utter_message(
            response="utter_booked",
            customer_name=booked.customer_name,
            service=service.called(lang),
            when=in_full(booked.start, settings, at, lang),
            duration=service.duration,
            email=booked.email,
        )
        return [SlotSet("booking_id", booked.id), *forget_booking()]


def forget_booking() -> list[dict[str, Any]]:
    """A booking made: a second one in the same conversation starts afresh (the customer's
    name and e-mail are kept)."""
    return [SlotSet(name, None) for name in BOOKING_SLOTS]

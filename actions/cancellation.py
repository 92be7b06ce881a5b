"""Cancelling an appointment: found by the e-mail it was booked with, confirmed, freed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.business import business
from actions.integrations.calendar import CalendarError
from actions.language import language_of
from actions.scheduling import spoken
from actions.services import calendar, now, send_email
from actions.validation import CustomerDetails, OffersAPersonWhenStuck

logger = logging.getLogger(__name__)


class ValidateCancelForm(OffersAPersonWhenStuck, CustomerDetails, FormValidationAction):
    """The e-mail address is checked as in the other forms."""

    def name(self) -> str:
        return "validate_cancel_form"


class ActionFindAppointment(Action):
    def name(self) -> str:
        return "action_find_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = business()
        email = str(tracker.get_slot("email") or "")
        at = now()
        try:
            found = await asyncio.to_thread(calendar(settings).upcoming, email, at)
        except CalendarError as error:
            logger.error("the calendar cannot be read: %s", error)
            dispatcher.utter_message(response="utter_cancel_calendar_unreachable")
            return [SlotSet("appointment_id", None)]
        if not found:
            dispatcher.utter_message(response="utter_no_appointment_found", email=email)
            # "Anything else?" comes from its own response, so that a "no" to it is a goodbye
            # and not "keep the appointment" (data/rules.yml).
            return [SlotSet("appointment_id", None), FollowupAction("utter_anything_else")]
        soonest = found[0]
        dispatcher.utter_message(
            response="utter_confirm_cancel",
            service=settings.called(soonest.service, language_of(tracker)),
            when=spoken(soonest.start, settings, at, language_of(tracker)),
        )
        return [SlotSet("appointment_id", soonest.id)]


HELLO = {"en": "Hello", "fr": "Bonjour", "de": "Hallo", "es": "Hola"}
HELLO_NOBODY = {**HELLO, "en": "Hello there"}
#: the customer's e-mail when an appointment is cancelled: subject and text, per language
CANCELLED_EMAIL = {
    "en": (
        "Your {service} is cancelled",
        "{hello},\n\nyour {service} {when} at {business} is cancelled. We hope to see "
        "you another time.\n\n{business}\n",
    ),
    "fr": (
        "Votre rendez-vous ({service}) est annulé",
        "{hello},\n\nvotre rendez-vous ({service}) {when} chez {business} est annulé. "
        "Au plaisir de vous revoir.\n\n{business}\n",
    ),
    "de": (
        "Ihr Termin ({service}) ist abgesagt",
        "{hello},\n\nIhr Termin ({service}) {when} bei {business} ist abgesagt. Wir "
        "freuen uns, Sie ein anderes Mal zu sehen.\n\n{business}\n",
    ),
    "es": (
        "Su cita ({service}) está cancelada",
        "{hello}:\n\nsu cita ({service}) {when} en {business} está cancelada. Esperamos "
        "verle en otra ocasión.\n\n{business}\n",
    ),
}


class ActionCancelAppointment(Action):
    def name(self) -> str:
        return "action_cancel_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = business()
        appointment_id = tracker.get_slot("appointment_id")
        if not appointment_id:
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return []
        email = str(tracker.get_slot("email") or "")
        cal = calendar(settings)
        try:
            mine = [
                a
                for a in await asyncio.to_thread(cal.upcoming, email, now())
                if a.id == appointment_id
            ]
            await asyncio.to_thread(cal.cancel, str(appointment_id))
        except CalendarError as error:
            logger.error("cancelling failed: %s", error)
            dispatcher.utter_message(response="utter_cancel_failed")
            return []
        dispatcher.utter_message(response="utter_cancelled")
        if mine:
            lang = language_of(tracker)
            lang = lang if lang in HELLO else "en"
            subject, body = CANCELLED_EMAIL[lang]
            name = mine[0].customer_name
            values = {
                "hello": f"{HELLO[lang]} {name}" if name else HELLO_NOBODY[lang],
                "service": settings.called(mine[0].service, lang),
                "when": spoken(mine[0].start, settings, now(), lang),
                "business": settings.name,
            }
            await asyncio.to_thread(
                send_email, settings, email, subject.format(**values), body.format(**values)
            )
        return [SlotSet("appointment_id", None), SlotSet("booking_id", None)]

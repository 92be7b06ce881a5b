"""Cancelling an appointment: found by the e-mail it was booked with, confirmed, freed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import calendar, now, send_email
from actions.business import business
from actions.integrations.calendar import CalendarError
from actions.language import language_of
from actions.scheduling import spoken
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
            when = spoken(mine[0].start, settings, now())
            text = (
                f"Hello {mine[0].customer_name or 'there'},\n\nyour {mine[0].service} {when} at "
                f"{settings.name} is cancelled. We hope to see you another time.\n\n{settings.name}\n"
            )
            subject = f"Your {mine[0].service} is cancelled"
            await asyncio.to_thread(send_email, settings, email, subject, text)
        return [SlotSet("appointment_id", None), SlotSet("booking_id", None)]

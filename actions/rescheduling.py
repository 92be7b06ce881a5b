"""Moving an appointment to another time, in one conversation: found by the e-mail it was
booked with, the new time checked against the calendar (the old one does not stand in its
way), booked, the old one freed, and the new time confirmed by e-mail."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.appointment_time import (
    choose_time,
    form_opening,
    shifted,
    slot_before_this_turn,
)
from actions.booking import confirm_by_email
from actions.business import business
from actions.integrations.calendar import Appointment, CalendarError, SlotTakenError
from actions.language import LOCALES, language_of
from actions.scheduling import is_free, spoken
from actions.services import calendar, now, outbox
from actions.validation import CustomerDetails, OffersAPersonWhenStuck, valid_email
from actions.when import CLOCK_SLOT, DAY_SLOT, PART_SLOT, shift, understand_time

logger = logging.getLogger(__name__)


def forget_time() -> list[dict[str, Any]]:
    """The parts of a time said for an earlier booking or move (see `actions.when`)."""
    return [SlotSet(name, None) for name in (DAY_SLOT, CLOCK_SLOT, PART_SLOT)]


async def appointment_of(email: str, appointment_id: str | None = None) -> Appointment | None:
    """The customer's soonest upcoming appointment (or the one with `appointment_id`)."""
    found = await asyncio.to_thread(calendar(business()).upcoming, email, now())
    if appointment_id:
        found = [a for a in found if a.id == appointment_id]
    return found[0] if found else None


async def look_up(email: str, dispatcher: CollectingDispatcher, language: str) -> dict[str, Any]:
    """The slots for the appointment booked with `email`; says what was found."""
    try:
        found = await appointment_of(email)
    except CalendarError as error:
        logger.error("the calendar cannot be read: %s", error)
        dispatcher.utter_message(response="utter_move_calendar_unreachable")
        return {"email": email, "appointment_id": None}
    if found is None:
        return {"email": email, "appointment_id": None}
    dispatcher.utter_message(
        response="utter_found_appointment",
        service=business().called(found.service, language),
        when=spoken(found.start, business(), now(), language),
    )
    return {"email": email, "appointment_id": found.id, "service": found.service}


class ActionStartReschedule(Action):
    """Forgets the times of earlier bookings in this conversation, and looks the appointment
    up at once when the e-mail is already known."""

    def name(self) -> str:
        return "action_start_reschedule"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        said_a_time = any(e.get("entity") == "time" for e in tracker.latest_message["entities"])
        events = [SlotSet("appointment_id", None), *forget_time()]
        if not said_a_time:  # "move my haircut to Friday at 3" keeps its new time
            events.append(SlotSet("appointment_time", None))
        email = valid_email(tracker.get_slot("email"))
        if email:
            slots = await look_up(email, dispatcher, language_of(tracker))
            events += [SlotSet(name, value) for name, value in slots.items()]
        return events


class ValidateRescheduleForm(OffersAPersonWhenStuck, CustomerDetails, FormValidationAction):
    def name(self) -> str:
        return "validate_reschedule_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        if tracker.get_slot("email") and not tracker.get_slot("appointment_id"):
            return ["email"]  # nothing to move: the form ends, the next action says so
        return domain_slots

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        checked = super().validate_email(value, dispatcher, tracker, domain)
        if checked["email"] is None:
            return checked
        known = slot_before_this_turn(tracker, "email")
        if checked["email"] == known and tracker.get_slot("appointment_id"):
            return checked  # found as the move began (the e-mail was known): said once
        found = await look_up(checked["email"], dispatcher, language_of(tracker))
        opening = form_opening(tracker)
        if found.get("appointment_id") and shift(opening, language_of(tracker)):
            # "can I push my appointment back an hour": the new time is said already
            found.update(
                await self._new_time(
                    None, opening, dispatcher, tracker, checked["email"], found["appointment_id"]
                )
            )
        return found

    async def validate_appointment_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        said = str(tracker.latest_message.get("text") or "")
        appointment_id = tracker.get_slot("appointment_id")
        if value is None and not (appointment_id and shift(said, language_of(tracker))):
            return {"appointment_time": None}  # forgotten as the move began: asked next
        return await self._new_time(
            value,
            said,
            dispatcher,
            tracker,
            valid_email(tracker.get_slot("email")),
            appointment_id,
        )

    async def _new_time(
        self,
        value: Any,
        said: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        email: str | None,
        appointment_id: str | None,
    ) -> dict[str, Any]:
        """The slots for the time the appointment moves to: `value` as the booking form
        reads a time, or `said` as a shift from the appointment's own ("an hour later")."""
        old = None
        if email:
            try:
                old = await appointment_of(email, appointment_id)
            except CalendarError:
                old = None
        moving = (old.start, old.end) if old else None
        # The appointment's own service, not the slot's: "11h" of "vendredi à 11h", tagged
        # as a service, left no service to check the time for, and the time was asked again
        service = business().service(old.service) if old else None
        moved = shifted(tracker, said, old.start) if old else None
        return await choose_time(moved or value, dispatcher, tracker, moving, service)


class ActionRescheduleAppointment(Action):
    def name(self) -> str:
        return "action_reschedule_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = business()
        at = now()
        email = valid_email(tracker.get_slot("email")) or ""
        done = [SlotSet("appointment_id", None), SlotSet("appointment_time", None), *forget_time()]
        try:
            old = await appointment_of(email, tracker.get_slot("appointment_id"))
        except CalendarError as error:
            logger.error("the calendar cannot be read: %s", error)
            old = None
        if old is None:
            dispatcher.utter_message(response="utter_no_appointment_found", email=email)
            return done
        service = settings.service(old.service)
        lang = language_of(tracker)
        wanted = understand_time(
            str(tracker.get_slot("appointment_time") or ""), settings, at, LOCALES[lang]
        )
        if service is None or wanted is None or wanted.start is None:
            dispatcher.utter_message(response="utter_move_incomplete")
            return done
        new = dataclasses.replace(
            old,
            id="",
            start=wanted.start,
            end=wanted.start + dt.timedelta(minutes=service.duration),
        )
        when = spoken(new.start, settings, at, lang)
        cal = calendar(settings)
        try:
            if not await asyncio.to_thread(
                is_free, settings, cal, service, new.start, at, (old.start, old.end)
            ):
                raise SlotTakenError(f"{when} is not free")
            # A failure never leaves the customer with no appointment (Calendar.move).
            booked = await asyncio.to_thread(cal.move, old, new)
        except SlotTakenError:
            dispatcher.utter_message(response="utter_move_taken", when=when)
            return done
        except CalendarError as error:
            logger.error("rescheduling failed, kept in the outbox: %s", error)
            await asyncio.to_thread(
                outbox().put,
                "reschedule",
                {"appointment_id": old.id, "start": new.start.isoformat(), "email": email},
                str(error),
            )
            dispatcher.utter_message(
                response="utter_move_queued",
                service=settings.called(old.service, lang),
                when=when,
                email=email,
            )
            return done
        await asyncio.to_thread(confirm_by_email, settings, booked, service.duration, lang)
        dispatcher.utter_message(
            response="utter_moved", service=service.called(lang), when=when, email=email
        )
        return [*done, SlotSet("booking_id", booked.id)]

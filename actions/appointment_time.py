"""The time a booking form keeps: read from every answer, checked against the calendar.

Whatever the form asked, an answer that says a day or a time ("actually the 11th instead",
"make it 11 in the morning") changes the booking: `TimeInEveryAnswer` reads each message,
and `choose_time` puts what it says together with what the customer said before (see
`actions.when`), checks the result, and offers free times when it is not free. A closed
day or one that has passed is said to be so, never moved to another day in silence.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.business import Business, Service, business
from actions.integrations.calendar import CalendarError
from actions.language import LOCALES, language_of
from actions.scheduling import (
    Wanted,
    in_full,
    is_free,
    nearest_open_days,
    said_day,
    spoken,
    suggestions,
)
from actions.services import calendar, now
from actions.validation import valid_email
from actions.when import Reader, When, shift

logger = logging.getLogger(__name__)

#: the slots whose answers are read for a time (the form's own question aside)
NAME_AND_EMAIL = ("customer_name", "email")


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


def reader(tracker: Tracker) -> Reader:
    return Reader(business(), now(), LOCALES[language_of(tracker)])


def slot_before_this_turn(tracker: Tracker, name: str) -> Any:
    """The value `name` had when the customer's latest message came in."""
    events = tracker.events
    latest = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    value = None
    for event in events[:latest]:
        if event.get("event") == "slot" and event.get("name") == name:
            value = event.get("value")
    return value


def form_opening(tracker: Tracker) -> str:
    """The message that started the active form, when a later one is being read: "I'd like
    to book for tomorrow at 3" fills no slot of its own and must not be forgotten."""
    events = tracker.events
    started = max(
        (
            i
            for i, e in enumerate(events)
            if e.get("event") == "active_loop" and e.get("name") == tracker.active_loop_name
        ),
        default=None,
    )
    if started is None:
        return ""
    before = [e for e in events[:started] if e.get("event") == "user"]
    latest = [e for e in events if e.get("event") == "user"]
    if not before or before[-1] is latest[-1]:
        return ""
    return str(before[-1].get("text") or "")


def said_now(value: Any, tracker: Tracker, read: Reader) -> When:
    """What the latest answer says about when: the whole message (the extracted entity can
    be cut short), a button's ISO time, or the slot's value given some other way."""
    message = str(tracker.latest_message.get("text") or "")
    months = tracker.get_slot("requested_slot") not in NAME_AND_EMAIL
    text = str(value or "") if message.startswith("/") else message
    said = read.read(text, months) if text else When()
    if not said and value and str(value) != text:
        said = read.read(str(value), months)
    return said


def kept(tracker: Tracker, read: Reader) -> When:
    """What the booking had before this answer: its slots, or on the form's first answer
    the message that started it."""
    before = When.from_slots(tracker.slots)
    if before or slot_before_this_turn(tracker, "appointment_time"):
        return before
    opening = form_opening(tracker)
    return read.read(opening) if opening and not opening.startswith("/") else before


class TimeInEveryAnswer:
    """A form's `extract_appointment_time`: an answer to another question that says a day
    or a time is an answer about the time too ("your name?" "actually, the 11th instead")."""

    def extract_appointment_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Read whatever the NLU made of the message: "noon" taken for a "no", or "ten in
        the morning" for a question about opening hours, is still a time."""
        message = str(tracker.latest_message.get("text") or "")
        if not message or message.startswith("/") or valid_email(message):  # "tom.march3@..."
            return {}
        moved = shifted(tracker, message)
        if moved:
            return {"appointment_time": moved}
        asked = tracker.get_slot("requested_slot")
        if not reader(tracker).read(message, months=asked not in NAME_AND_EMAIL):
            return {}
        return {"appointment_time": message}


def shifted(tracker: Tracker, message: str, base: dt.datetime | None = None) -> str | None:
    """`base` (default: the time already chosen) moved as `message` says ("can we make it an
    hour later?"), as an ISO time; None when it names no shift, or a time of its own, or
    there is no time to move."""
    delta = shift(message, language_of(tracker))
    if delta is None:
        return None
    if base is None:
        chosen = slot_before_this_turn(tracker, "appointment_time")
        base = dt.datetime.fromisoformat(str(chosen)) if chosen else None
    if base is None or reader(tracker).read(message):
        return None
    return (base + delta).astimezone(business().zone).isoformat()


def is_about_time(tracker: Tracker) -> bool:
    """Whether the latest answer changes the time (see `TimeInEveryAnswer`): the answer
    then is not a name, an e-mail address or a yes ("can we make it an hour later?" is no
    yes, whatever intent the NLU gave it)."""
    message = str(tracker.latest_message.get("text") or "")
    if not message or message.startswith("/") or valid_email(message):
        return False
    asked = tracker.get_slot("requested_slot")
    return bool(reader(tracker).read(message, months=asked not in NAME_AND_EMAIL)) or bool(
        shifted(tracker, message)
    )


async def choose_time(
    value: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    moving: tuple[dt.datetime, dt.datetime] | None = None,
    service: Service | None = None,
) -> dict[str, Any]:
    """The slots a form keeps for the time: each part said so far, and `appointment_time`,
    a free start for `service` (default: the `service` slot's), or None with free times
    offered as buttons. `moving`: the time of the appointment being moved."""
    settings = business()
    at = now()
    lang = language_of(tracker)
    read = reader(tracker)
    said = said_now(value, tracker, read)
    when = kept(tracker, read).then(said)
    if moving is not None and (when.clocks or when.part) and not when.day_said and not when.period:
        # "plutôt à 16h30" for Friday's blow-dry: a time alone moves it within its own day
        when = replace(when, day=moving[0].astimezone(settings.zone).date(), day_said=True)
    slots: dict[str, Any] = {**when.slots(), "appointment_time": None}
    wanted = when.wanted(settings, at)
    if wanted is None:
        dispatcher.utter_message(response="utter_time_not_understood")
        return slots
    service = service or settings.service(tracker.get_slot("service"))
    if service is None:  # the time came first: kept, and checked once the service is known
        return slots
    try:
        cal = calendar(settings)
        if said.passed is not None:  # "the 12th" on the 14th: not next month's in silence
            await asyncio.to_thread(
                _offer,
                dispatcher,
                settings,
                cal,
                service,
                when,
                wanted,
                at,
                lang,
                moving,
                said.passed,
            )
            return slots
        if wanted.start is not None and await asyncio.to_thread(
            is_free, settings, cal, service, wanted.start, at, moving
        ):
            start = wanted.start.isoformat()
            if slot_before_this_turn(tracker, "appointment_time") not in (None, start):
                changed = in_full(wanted.start, settings, at, lang)
                if tracker.get_slot("requested_slot") != "booking_confirmed":
                    dispatcher.utter_message(response="utter_time_changed", when=changed)
            return {**slots, "appointment_time": start}
        await asyncio.to_thread(
            _offer, dispatcher, settings, cal, service, when, wanted, at, lang, moving
        )
    except CalendarError as error:
        logger.error("the calendar cannot be read: %s", error)
        # Take the time as asked; the booking step keeps it for the team to confirm.
        if wanted.start is not None:
            return {**slots, "appointment_time": wanted.start.isoformat()}
    return slots


def _offer(
    dispatcher: CollectingDispatcher,
    settings: Business,
    cal: Any,
    service: Service,
    when: When,
    wanted: Wanted,
    at: dt.datetime,
    lang: str,
    moving: tuple[dt.datetime, dt.datetime] | None,
    passed: dt.date | None = None,
) -> None:
    """Says why the asked time cannot be booked, and offers free times as buttons. `passed`:
    the day of this month that was meant, and has passed; `wanted` is next month's."""
    zone = settings.zone
    day = one_day(wanted, zone)
    today = at.astimezone(zone).date()
    ahead = settings.booking.max_days_ahead
    begins = wanted.start or (wanted.period[0] if wanted.period else at)
    if passed is None and begins >= at + dt.timedelta(days=ahead):
        # "the 20th of September" in May: not "no free time then", which it may well have.
        # The last whole open day that can be booked is named.
        last = (at + dt.timedelta(days=ahead)).astimezone(zone).date() - dt.timedelta(days=1)
        while not settings.opening(last) and last > today:
            last -= dt.timedelta(days=1)
        dispatcher.utter_message(
            response="utter_too_far_ahead", days=ahead, last=said_day(last, at, lang)
        )
        return
    if day is not None and day < today:
        rest_of_today = Wanted(period=(at, dt.datetime.combine(today, dt.time(23, 59), zone)))
        offers = suggestions(settings, cal, service, rest_of_today, at, 3, moving)
        response, named = "utter_day_passed", said_day(day, at, lang)
    elif day is not None and not settings.opening(day):
        clock = when.clocks[0] if when.clocks else None
        offers = nearest_open_days(settings, cal, service, day, clock, at, moving)
        response, named = "utter_day_closed", said_day(day, at, lang)
    else:
        offers = suggestions(settings, cal, service, wanted, at, 3, moving)
        twin = None
        if wanted.start is not None:
            twin = _other_half_of_the_day(wanted.start, settings, cal, service, at, moving)
        if twin is not None:
            # "5 in the morning" when the studio opens at 9: asked, not guessed
            offers = [twin, *(o for o in offers if o != twin)][:3]
            response, named = "utter_did_you_mean", spoken(twin, settings, at, lang)
        elif wanted.start is not None:
            response = "utter_time_not_available"
            named = spoken(wanted.start, settings, at, lang)
        else:
            response, named = "utter_free_times", ""
    if passed is not None:
        # Next month's day at the asked time, first when it is free: the customer chooses.
        if wanted.start is not None and is_free(settings, cal, service, wanted.start, at, moving):
            offers = [wanted.start, *(o for o in offers if o != wanted.start)][:3]
        response, named = "utter_day_passed", said_day(passed, at, lang)
    if not offers:
        dispatcher.utter_message(response="utter_no_free_time", service=service.called(lang))
        return
    dispatcher.utter_message(
        response=response,
        asked=named[:1].upper() + named[1:],
        buttons=time_buttons(offers, settings, at, lang),
    )


def one_day(wanted: Wanted, zone: dt.tzinfo) -> dt.date | None:
    """The day `wanted` is on, when it is on a single day."""
    if wanted.start is not None:
        return wanted.start.astimezone(zone).date()
    assert wanted.period is not None
    first = wanted.period[0].astimezone(zone)
    last = (wanted.period[1] - dt.timedelta(seconds=1)).astimezone(zone)
    return first.date() if first.date() == last.date() else None


def _other_half_of_the_day(
    start: dt.datetime,
    settings: Business,
    cal: Any,
    service: Service,
    at: dt.datetime,
    moving: tuple[dt.datetime, dt.datetime] | None,
) -> dt.datetime | None:
    """The same clock time twelve hours away on the same day, when the asked one is outside
    opening hours and that one is free: "5 in the morning" is offered 17:00 first."""
    local = start.astimezone(settings.zone)
    if any(a <= local < b for a, b in settings.opening(local.date())):
        return None
    twin = local + dt.timedelta(hours=-12 if local.hour >= 12 else 12)
    if twin.date() != local.date():
        return None
    return twin if is_free(settings, cal, service, twin, at, moving) else None

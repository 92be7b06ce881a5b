"""The opening hours told from `business.yml` (`hours`, `closed_dates`): the week, or the
day a customer asks about ("are you open on Saturday?", "on the 26th?").

They are the hours the booking form books in: the console's business page changes both at
once, and the next answer says the new hours.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.business import WEEKDAYS, Business, BusinessSettingsError, business
from actions.catalogue import Citation, asked, capitalised
from actions.language import LOCALES, language_of
from actions.scheduling import WEEKDAY_NAMES, said_day
from actions.services import now
from actions.when import Reader

logger = logging.getLogger(__name__)

#: how far ahead the closed dates are told beside the week's hours
CLOSED_AHEAD_DAYS = 31
HOURS = Citation("action_tell_hours", "opening-hours", "Opening hours")
#: the last line of the week's hours, before the closed dates of the coming month
ALSO_CLOSED = {
    "en": "Also closed on",
    "fr": "Fermé aussi le",
    "de": "Außerdem geschlossen am",
    "es": "También cerrado el",
}
CLOSED = {"en": "closed", "fr": "fermé", "de": "geschlossen", "es": "cerrado"}


def _ranges(texts: list[str]) -> str:
    """ "09:00-12:00", "14:00-18:00" as "09:00–12:00, 14:00–18:00"."""
    return ", ".join(text.replace(" ", "").replace("-", "–") for text in texts)


def week(settings: Business, language: str) -> str:
    """The week's hours as a Markdown list, days with the same hours together:
    "- Monday–Friday: 09:00–18:00", "- Sunday: closed"."""
    names = WEEKDAY_NAMES.get(language, WEEKDAY_NAMES["en"])
    closed = CLOSED.get(language, CLOSED["en"])
    said = [_ranges(settings.hours.get(day, [])) or closed for day in WEEKDAYS]
    lines = []
    first = 0
    for day in range(1, len(WEEKDAYS) + 1):
        if day == len(WEEKDAYS) or said[day] != said[first]:
            days = names[first] if day - 1 == first else f"{names[first]}–{names[day - 1]}"
            lines.append(f"- {capitalised(days)}: {said[first]}")
            first = day
    return "\n".join(lines)


def closed_soon(settings: Business, today: dt.date) -> list[dt.date]:
    """The closed dates of the coming month that fall on a day the business opens."""
    ahead = today + dt.timedelta(days=CLOSED_AHEAD_DAYS)
    return sorted(
        day
        for day in settings.closed_dates
        if today <= day <= ahead and settings.hours.get(WEEKDAYS[day.weekday()])
    )


class ActionTellHours(Action):
    """ "When are you open?": the week's hours, and the closed dates of the coming month;
    "are you open on Saturday?": that day's hours, or that it is closed."""

    def name(self) -> str:
        return "action_tell_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            settings = business()
        except BusinessSettingsError as error:
            logger.error("the opening hours cannot be read: %s", error)
            return [FollowupAction("action_answer_from_kb")]
        if not settings.hours:
            return [FollowupAction("action_answer_from_kb")]  # hours written in the FAQ only
        language = language_of(tracker)
        moment = now()
        text = asked(tracker)
        when = (
            Reader(settings, moment, LOCALES[language]).read(text, months=False) if text else None
        )
        if when is not None and when.day is not None and when.day_said:
            day = said_day(when.day, moment, language)
            periods = settings.opening(when.day)
            if not periods:
                dispatcher.utter_message(
                    response="utter_closed_on_day", day=day, json_message=HOURS.cited()
                )
            else:
                hours = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in periods)
                dispatcher.utter_message(
                    response="utter_open_on_day", day=day, hours=hours, json_message=HOURS.cited()
                )
            return []
        today = moment.astimezone(settings.zone).date()
        hours = week(settings, language)
        closed = closed_soon(settings, today)
        if closed:
            # one answer, one source: the closed dates are the list's last line
            also = ALSO_CLOSED.get(language, ALSO_CLOSED["en"])
            hours += f"\n- {also} " + ", ".join(said_day(day, moment, language) for day in closed)
        dispatcher.utter_message(response="utter_hours", hours=hours, json_message=HOURS.cited())
        return []

"""When a service can be booked: opening hours, minus booked time, minus short notice; and
how a time is said back to the customer, in their language.

What customers say is read in `actions.when`. An exact time is checked here; a day or a
part of a day gets the free times that fit it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from actions.business import Business, Service
from actions.integrations.calendar import Calendar


@dataclass(frozen=True)
class Wanted:
    """What the customer asked for: an exact start, or a period to choose in."""

    start: dt.datetime | None = None
    period: tuple[dt.datetime, dt.datetime] | None = None
    #: how many characters of what was said the reading covers: more is more specific
    covered: int = field(default=0, compare=False)


def names_a_weekday(text: str) -> bool:
    """Whether `text` names a day of the week, in any of the assistant's languages.

    Whole names only: their first letters are words too ("son", "die", "mit", "Sam").
    """
    words = set(re.findall(r"\w+", text.lower()))
    return any(name.lower() in words for names in WEEKDAY_NAMES.values() for name in names)


def _rounded_up(moment: dt.datetime, minutes: int) -> dt.datetime:
    base = moment.replace(second=0, microsecond=0)
    extra = (-base.minute) % minutes
    if base < moment and extra == 0:
        extra = minutes
    return base + dt.timedelta(minutes=extra)


def free_starts(
    business: Business,
    calendar: Calendar,
    service: Service,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    moving: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[dt.datetime]:
    """Every start time in [start, end) at which `service` fits, soonest first. `moving` is
    the time of an appointment being moved: it does not stand in its own way."""
    rules = business.booking
    earliest = max(start, now + dt.timedelta(minutes=rules.min_notice_minutes))
    latest = min(end, now + dt.timedelta(days=rules.max_days_ahead))
    if earliest >= latest:
        return []
    duration = dt.timedelta(minutes=service.duration)
    busy = [b for b in calendar.busy(earliest, latest + duration) if b != moving]
    starts: list[dt.datetime] = []
    day = earliest.astimezone(business.zone).date()
    while day <= latest.astimezone(business.zone).date():
        for opens, closes in business.opening(day):
            moment = _rounded_up(max(opens, earliest), rules.slot_minutes)
            while moment + duration <= closes and moment < latest:
                if not any(
                    b_start < moment + duration and moment < b_end for b_start, b_end in busy
                ):
                    starts.append(moment)
                moment += dt.timedelta(minutes=rules.slot_minutes)
        day += dt.timedelta(days=1)
    return starts


def is_free(
    business: Business,
    calendar: Calendar,
    service: Service,
    start: dt.datetime,
    now: dt.datetime,
    moving: tuple[dt.datetime, dt.datetime] | None = None,
) -> bool:
    return start in free_starts(
        business, calendar, service, start, start + dt.timedelta(minutes=1), now, moving
    )


def suggestions(
    business: Business,
    calendar: Calendar,
    service: Service,
    wanted: Wanted,
    now: dt.datetime,
    count: int = 3,
    moving: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[dt.datetime]:
    """Free times to offer: in the asked period, else the nearest to the asked time (or to
    the period) within the booking horizon."""
    if wanted.period is not None:
        inside = free_starts(business, calendar, service, *wanted.period, now, moving)
        if not inside:
            # Nothing then (a closed day): the first open day after it.
            after = free_starts(
                business,
                calendar,
                service,
                wanted.period[1],
                now + dt.timedelta(days=366),
                now,
                moving,
            )
            first_day = after[0].astimezone(business.zone).date() if after else None
            inside = [m for m in after if m.astimezone(business.zone).date() == first_day]
        if inside:
            # Spread over the period rather than three back-to-back quarter hours.
            step = max(1, len(inside) // count)
            return inside[::step][:count]
        target = wanted.period[0]
    else:
        assert wanted.start is not None
        target = wanted.start
    horizon = now + dt.timedelta(days=business.booking.max_days_ahead)
    window_start = max(now, target - dt.timedelta(days=3))
    nearby = free_starts(business, calendar, service, window_start, horizon, now, moving)
    nearby.sort(key=lambda moment: abs((moment - target).total_seconds()))
    return sorted(nearby[:count])


#: how a time is said in each language: today, tomorrow, another day (and the day names)
SAID = {
    "en": ("today at {clock}", "tomorrow at {clock}", "{weekday} {day} {month} at {clock}"),
    "fr": ("aujourd'hui à {clock}", "demain à {clock}", "{weekday} {day} {month} à {clock}"),
    "de": ("heute um {clock}", "morgen um {clock}", "{weekday}, {day}. {month} um {clock}"),
    "es": ("hoy a las {clock}", "mañana a las {clock}", "{weekday} {day} de {month} a las {clock}"),
}
WEEKDAY_NAMES = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
MONTH_NAMES = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}


#: a date in full, for e-mails: "Friday 27 November 2026 at 10:00"
FULL_DATE = {
    "en": "{weekday} {day} {month} {year} at {clock}",
    "fr": "{weekday} {day} {month} {year} à {clock}",
    "de": "{weekday}, {day}. {month} {year} um {clock}",
    "es": "{weekday} {day} de {month} de {year} a las {clock}",
}


def full_date(moment: dt.datetime, business: Business, language: str = "en") -> str:
    lang = language if language in FULL_DATE else "en"
    local = moment.astimezone(business.zone)
    return FULL_DATE[lang].format(
        weekday=WEEKDAY_NAMES[lang][local.weekday()],
        day=local.day,
        month=MONTH_NAMES[lang][local.month - 1],
        year=local.year,
        clock=f"{local.hour}:{local.minute:02d}",
    )


def spoken(moment: dt.datetime, business: Business, now: dt.datetime, language: str = "en") -> str:
    """ "today at 15:00", "tomorrow at 9:30", "Friday 28 November at 10:00" (or "demain à
    9:30", "Freitag, 28. November um 10:00"...)."""
    lang = language if language in SAID else "en"
    local = moment.astimezone(business.zone)
    today = now.astimezone(business.zone).date()
    clock = f"{local.hour}:{local.minute:02d}"
    same_day, next_day, other_day = SAID[lang]
    if local.date() == today:
        return same_day.format(clock=clock)
    if local.date() == today + dt.timedelta(days=1):
        return next_day.format(clock=clock)
    return other_day.format(
        weekday=WEEKDAY_NAMES[lang][local.weekday()],
        day=local.day,
        month=MONTH_NAMES[lang][local.month - 1],
        clock=clock,
    )


#: a day and time in full, for confirmations: never "today" unless it is today
IN_FULL = {
    "en": ("today, {date}, at {clock}", "tomorrow, {date}, at {clock}", "on {date} at {clock}"),
    "fr": ("aujourd'hui, {date}, à {clock}", "demain, {date}, à {clock}", "le {date} à {clock}"),
    "de": ("heute, {date}, um {clock}", "morgen, {date}, um {clock}", "am {date} um {clock}"),
    "es": (
        "hoy, {date}, a las {clock}",
        "mañana, {date}, a las {clock}",
        "el {date} a las {clock}",
    ),
}
DATE = {
    "en": "{weekday} {day} {month}",
    "fr": "{weekday} {day} {month}",
    "de": "{weekday}, {day}. {month}",
    "es": "{weekday} {day} de {month}",
}
YEAR = {"en": " {year}", "fr": " {year}", "de": " {year}", "es": " de {year}"}


def said_day(day: dt.date, now: dt.datetime, language: str = "en") -> str:
    """ "Friday 8 March" (with the year when it is not this year's): "vendredi 8 mars",
    "Freitag, 8. März", "viernes 8 de marzo"."""
    lang = language if language in DATE else "en"
    text = DATE[lang].format(
        weekday=WEEKDAY_NAMES[lang][day.weekday()],
        day=day.day,
        month=MONTH_NAMES[lang][day.month - 1],
    )
    return text + (YEAR[lang].format(year=day.year) if day.year != now.year else "")


def in_full(moment: dt.datetime, business: Business, now: dt.datetime, language: str = "en") -> str:
    """ "on Friday 8 March at 14:00", "tomorrow, Thursday 26 November, at 15:00": what a
    confirmation says, from the same value the calendar is given."""
    lang = language if language in IN_FULL else "en"
    local = moment.astimezone(business.zone)
    today = now.astimezone(business.zone).date()
    same_day, next_day, other_day = IN_FULL[lang]
    pattern = (
        same_day
        if local.date() == today
        else next_day
        if local.date() == today + dt.timedelta(days=1)
        else other_day
    )
    return pattern.format(
        date=said_day(local.date(), now, lang), clock=f"{local.hour}:{local.minute:02d}"
    )


def nearest_open_days(
    business: Business,
    calendar: Calendar,
    service: Service,
    day: dt.date,
    clock: dt.time | None,
    now: dt.datetime,
    moving: tuple[dt.datetime, dt.datetime] | None = None,
    count: int = 3,
) -> list[dt.datetime]:
    """Free times on the open days nearest to `day` (a closed one), before and after it:
    on each, the time nearest to `clock` when one was asked, else the day's first."""
    zone = business.zone
    begin = dt.datetime.combine(day - dt.timedelta(days=3), dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=8), dt.time(), zone)
    by_day: dict[dt.date, list[dt.datetime]] = {}
    for moment in free_starts(business, calendar, service, begin, end, now, moving):
        by_day.setdefault(moment.astimezone(zone).date(), []).append(moment)
    days = sorted(by_day, key=lambda d: (abs((d - day).days), d))[:count]
    chosen = []
    for open_day in days:
        starts = by_day[open_day]
        if clock is None:
            chosen.append(starts[0])
        else:
            target = dt.datetime.combine(open_day, clock, zone)
            chosen.append(min(starts, key=lambda m: abs((m - target).total_seconds())))
    return sorted(chosen)

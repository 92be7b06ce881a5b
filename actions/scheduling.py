"""When a service can be booked: opening hours, minus booked time, minus short notice.

Customers say times the way people do ("tomorrow at 3", "four in the evening", "Friday
afternoon", "next week"): parlez's Duckling reads them in the business's time zone. An exact
time is checked; a day or a part of a day gets the free times that fit it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from actions.business import Business, Service
from actions.integrations.calendar import Calendar
from parlez.nlu.extractors.duckling import parse_times

EXACT_GRAINS = ("hour", "minute", "second")


@dataclass(frozen=True)
class Wanted:
    """What the customer asked for: an exact start, or a period to choose in."""

    start: dt.datetime | None = None
    period: tuple[dt.datetime, dt.datetime] | None = None
    #: how many characters of what was said the reading covers: more is more specific
    covered: int = field(default=0, compare=False)


def _moment(text: str, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(zone)


def understand_time(
    said: str, business: Business, now: dt.datetime, locale: str = "en_GB"
) -> Wanted | None:
    """The time in `said` (an ISO time from a button, or words in `locale`'s language), or
    None if there is none."""
    zone = business.zone
    try:
        moment = dt.datetime.fromisoformat(said.strip())
    except ValueError:
        pass
    else:
        start = moment.replace(tzinfo=moment.tzinfo or zone).astimezone(zone)
        return Wanted(start=start, covered=len(said))
    reference = int(now.timestamp() * 1000)
    found = parse_times(said, business.timezone, reference, locale)
    if not found and locale != "en_GB":  # "tomorrow at 3pm" in a French conversation
        found = parse_times(said, business.timezone, reference)
    if not found:
        return None
    covered = len(str(found[0].get("text") or ""))
    info = found[0]["additional_info"]
    if info.get("type") == "interval":
        start = info.get("from", {}).get("value")
        end = info.get("to", {}).get("value")
        if not start:
            return None
        begin = _moment(start, zone)
        finish = _moment(end, zone) if end else begin + dt.timedelta(hours=4)
        return Wanted(period=(begin, finish), covered=covered)
    begin = _moment(str(info["value"]), zone)
    grain = info.get("grain")
    if grain in EXACT_GRAINS:
        readings = [
            _moment(str(v["value"]), zone) for v in info.get("values", []) if v.get("value")
        ]
        return Wanted(start=_when_open(readings, business) or begin, covered=covered)
    length = {"day": 1, "week": 7, "month": 30}.get(str(grain), 1)
    return Wanted(period=(begin, begin + dt.timedelta(days=length)), covered=covered)


def _when_open(readings: list[dt.datetime], business: Business) -> dt.datetime | None:
    """The first of Duckling's readings of an hour said without am/pm ("thursday at half
    past four": 04:30 or 16:30) at which the business is open: nobody books a haircut at
    4:30 in the morning."""
    for moment in readings:
        if any(start <= moment < end for start, end in business.opening(moment.date())):
            return moment
    return None


def best_time(
    said: list[str], business: Business, now: dt.datetime, locale: str = "en_GB"
) -> Wanted | None:
    """The most precise time among several readings of what the customer said.

    The entity the NLU extracted can be cut short ("tomorrow at" of "tomorrow at four in the
    afternoon", "noon" of "thursday at noon"): the whole message is read too. An exact time
    beats a period, and of two exact times the one read from more of the words wins.
    """
    readings = (understand_time(text, business, now, locale) for text in said if text)
    found = [w for w in readings if w]
    exact = [w for w in found if w.start is not None]
    ranked = sorted(exact or found, key=lambda w: w.covered, reverse=True)
    return ranked[0] if ranked else None


def names_a_weekday(text: str) -> bool:
    """Whether `text` names a day of the week, in any of the assistant's languages.

    Whole names only: their first letters are words too ("son", "die", "mit", "Sam").
    """
    words = set(re.findall(r"\w+", text.lower()))
    return any(name.lower() in words for names in WEEKDAY_NAMES.values() for name in names)


def in_period(wanted: Wanted, period: tuple[dt.datetime, dt.datetime]) -> Wanted:
    """A weekday answered inside a period asked for earlier ("next week" ... "Wednesday at
    2:30"): the same weekday and hour within that period, not the nearest Wednesday."""
    if wanted.start is None or period[0] <= wanted.start < period[1]:
        return wanted
    moved = wanted.start
    while moved < period[0]:
        moved += dt.timedelta(days=7)
    return Wanted(start=moved, covered=wanted.covered) if moved < period[1] else wanted


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

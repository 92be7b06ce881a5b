"""When a customer wants to come: each part of it as they said it, kept across turns.

Customers give the day and the time in separate messages ("March 8th is better" ... "make
it 2 pm"), correct one of them ("the 12th instead"), or say both at once. Duckling finds
each time expression of a message, and its grain tells a day ("March 8th": day) from a
clock time ("2 pm": hour) and from a part of the day ("in the afternoon": an interval).
Whether a clock time named its own day is told by reading it at both ends of today: "2 pm"
falls on two different days, "friday at 2 pm" on the same one. A booking keeps each part
in a slot of its own until the customer changes that part.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, replace
from typing import Any

from actions.business import Business
from actions.scheduling import MONTH_NAMES, WEEKDAY_NAMES, Wanted, names_a_weekday
from parlez.timeparse import parse_times

CLOCK_GRAINS = ("hour", "minute", "second")
#: the words of dates that customers mistype ("tommorow", "thursdy", "mrach"), per language
RELATIVE_DAYS = {
    "en": ["today", "tomorrow", "tonight", "morning", "afternoon", "evening"],
    "fr": ["aujourd'hui", "demain", "matin", "après-midi", "soir"],
    "de": ["heute", "morgen", "übermorgen", "vormittag", "nachmittag", "abend"],
    "es": ["hoy", "mañana", "tarde", "noche"],
}
#: short forms Duckling does not know, per language
SHORT_FORMS = {"en": {"tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "2moro": "tomorrow",
                      "2morrow": "tomorrow", "tonite": "tonight", "tdy": "today"}}  # fmt: skip
#: an hour said bare in a booking ("make it 11", "can we do 4 instead", "10 would suit me
#: better"), which Duckling leaves a number: read as "at 11"
BARE_HOUR = re.compile(
    r"(?:\b(?:make it|make that|do|change it to|move it to|how about|what about|rather|prefer)"
    r"\s+(?P<before>\d{1,2}(?:[:.]\d{2})?)\b(?!\s*(?:am|pm|a\.m|p\.m|h\b|people|of|th|st|nd|rd)))"
    r"|(?:\b(?P<after>\d{1,2}(?:[:.]\d{2})?)\s+(?=instead|would|works|is better|suits|then\b))",
    re.IGNORECASE,
)
#: words that make a part of the day today's ("this afternoon", "cet après-midi")
THIS_DAY = {
    "this", "today", "tonight", "ce", "cet", "cette", "aujourd'hui", "diesen", "diese", "heute",
    "esta", "este", "hoy",
}  # fmt: skip
#: what Duckling reads as one o'clock and customers mean as "a": "para un corte de pelo"
NOT_A_CLOCK = {"un", "una", "une", "para un", "para una", "por un", "por una", "pour un"}
#: the slots a booking keeps the parts in (ISO forms: easy to read in a tracker)
DAY_SLOT, CLOCK_SLOT, PART_SLOT = "appointment_day", "appointment_clock", "appointment_part"


@dataclass(frozen=True)
class When:
    """The parts of a time a customer has given, each None (or empty) until said."""

    day: dt.date | None = None
    #: False when the day only came with a clock time said alone ("2 pm": today)
    day_said: bool = False
    #: the day was a weekday's name ("wednesday"), which may mean one inside `period`
    weekday: bool = False
    #: a clock time's readings in Duckling's order: "at 4" is (16:00, 04:00)
    clocks: tuple[dt.time, ...] = ()
    #: a part of the day ("in the afternoon": 12:00-19:00)
    part: tuple[dt.time, dt.time] | None = None
    #: several days ("next week"): [first, end)
    period: tuple[dt.date, dt.date] | None = None
    #: "the 12th" said on the 14th: this month's, which has passed (`day` is next month's)
    passed: dt.date | None = None

    def __bool__(self) -> bool:
        return bool(self.day or self.clocks or self.part or self.period)

    def then(self, later: When) -> When:
        """What the customer wants after also saying `later`: each part `later` names
        replaces that part, and the others are kept ("make it 2 pm" keeps the day)."""
        if not later:
            return self
        day, day_said, weekday = self.day, self.day_said, self.weekday
        if later.day and (later.day_said or not self.day_said):
            day, day_said, weekday = later.day, later.day_said, later.weekday
        period = later.period or (None if later.day_said and not later.weekday else self.period)
        if later.period and not later.day_said:
            day, day_said, weekday = None, False, False
        if later.weekday and period and day and not period[0] <= day < period[1]:
            day = _into(day, period)
        clocks = later.clocks or (() if later.part else self.clocks)
        part = later.part or (None if later.clocks else self.part)
        return When(day, day_said, weekday, clocks, part, period, later.passed)

    def wanted(self, business: Business, now: dt.datetime) -> Wanted | None:
        """An exact start when a day and a clock time are known, else the period to choose
        in. A clock time said with an "am or pm" doubt is the reading the business is open
        at, on the day that was said and never another; a clock time said alone ("at 9", at
        ten in the morning) may mean tomorrow, as it would to a receptionist."""
        zone = business.zone
        if self.day and self.clocks:
            days = [self.day] if self.day_said else [self.day, self.day + dt.timedelta(days=1)]
            starts = [dt.datetime.combine(d, c, zone) for d in days for c in self.clocks]
            open_at = [
                s
                for s in starts
                if s > now and any(a <= s < b for a, b in business.opening(s.date()))
            ]
            return Wanted(start=(open_at or starts)[0])
        if self.day and self.part:
            begin = dt.datetime.combine(self.day, self.part[0], zone)
            end = dt.datetime.combine(self.day, self.part[1], zone)
            return Wanted(period=(begin, end if end > begin else begin + dt.timedelta(hours=4)))
        if self.day:
            begin = dt.datetime.combine(self.day, dt.time(), zone)
            return Wanted(period=(begin, begin + dt.timedelta(days=1)))
        if self.period:
            first, after = self.period
            return Wanted(
                period=(
                    dt.datetime.combine(first, dt.time(), zone),
                    dt.datetime.combine(after, dt.time(), zone),
                )
            )
        return None

    def slots(self) -> dict[str, str | None]:
        """The booking's slots for these parts. `appointment_day` is an ISO date
        ("2027-03-08", with a "?" when it only came with a clock time said alone), a period
        ("2027-03-08/2027-03-15") or a day inside one ("2027-03-10 in 2027-03-08/2027-03-15");
        `appointment_clock` the clock time's readings ("16:00 04:00"); `appointment_part`
        a part of the day ("12:00-19:00")."""
        day = None
        if self.period and not self.day:
            day = f"{self.period[0].isoformat()}/{self.period[1].isoformat()}"
        elif self.day:
            day = self.day.isoformat() + ("" if self.day_said else "?")
            if self.period:
                day += f" in {self.period[0].isoformat()}/{self.period[1].isoformat()}"
        clock = " ".join(c.strftime("%H:%M") for c in self.clocks) or None
        part = f"{self.part[0]:%H:%M}-{self.part[1]:%H:%M}" if self.part else None
        return {DAY_SLOT: day, CLOCK_SLOT: clock, PART_SLOT: part}

    @classmethod
    def from_slots(cls, values: dict[str, Any]) -> When:
        """The parts a booking has kept (see `slots`); unreadable values count as unsaid."""
        try:
            return cls._from_slots(values)
        except ValueError:
            return cls()

    @classmethod
    def _from_slots(cls, values: dict[str, Any]) -> When:
        day_text = str(values.get(DAY_SLOT) or "")
        day, day_said, period = None, False, None
        if " in " in day_text:
            day_text, _, period_text = day_text.partition(" in ")
            period = _dates(period_text)
        if "/" in day_text:
            period = _dates(day_text)
        elif day_text:
            day_said = not day_text.endswith("?")
            day = dt.date.fromisoformat(day_text.rstrip("?"))
        clocks = tuple(dt.time.fromisoformat(c) for c in str(values.get(CLOCK_SLOT) or "").split())
        part_text = str(values.get(PART_SLOT) or "")
        part = None
        if part_text:
            start, _, end = part_text.partition("-")
            part = (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
        return cls(day, day_said, False, clocks, part, period)


def _dates(text: str) -> tuple[dt.date, dt.date]:
    first, _, end = text.partition("/")
    return dt.date.fromisoformat(first), dt.date.fromisoformat(end)


def _into(day: dt.date, period: tuple[dt.date, dt.date]) -> dt.date:
    """The same weekday inside `period` ("next week" ... "wednesday"), if there is one."""
    moved = day
    while moved < period[0]:
        moved += dt.timedelta(days=7)
    return moved if moved < period[1] else day


def _moment(text: str, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(zone)


class Reader:
    """Reads messages in the business's time zone, relative to `now`, in `locale`."""

    def __init__(self, business: Business, now: dt.datetime, locale: str = "en_GB") -> None:
        self.business = business
        self.zone = business.zone
        self.now = now
        self.locale = locale
        language = locale.split("_")[0]
        self.date_words = [
            w.lower()
            for w in (
                WEEKDAY_NAMES.get(language, [])
                + MONTH_NAMES.get(language, [])
                + RELATIVE_DAYS.get(language, [])
            )
        ]

    def bare_hours(self, text: str) -> str:
        """ "make it 11" as "make it at 11", in English: the hour a correction names."""
        if not self.locale.startswith("en"):
            return text

        def at(match: re.Match[str]) -> str:
            hour = match.group("before") or match.group("after")
            prefix = match.group(0)[: match.group(0).index(hour)]
            return f"{prefix}at {hour}{match.group(0)[match.group(0).index(hour) + len(hour) :]}"

        return BARE_HOUR.sub(at, text)

    def spelled(self, text: str) -> str:
        """`text` with mistyped day and month names put right ("fridy" → "friday"): five
        letters or more, and clearly closer to one such name than to any other."""

        short = SHORT_FORMS.get(self.locale.split("_")[0], {})

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            lowered = word.lower()
            if lowered in short:
                return short[lowered]
            if len(lowered) < 5 or lowered in self.date_words:
                return word
            scored = sorted(
                ((difflib.SequenceMatcher(None, lowered, w).ratio(), w) for w in self.date_words),
                reverse=True,
            )
            (best, name), (second, _) = scored[0], scored[1]
            return name if best >= 0.8 and best - second >= 0.05 else word

        return re.sub(r"[^\W_]+", fix, text)

    def _parse(self, text: str, at: dt.datetime) -> list[dict[str, Any]]:
        reference = int(at.timestamp() * 1000)
        found = parse_times(text, self.business.timezone, reference, self.locale)
        if not found and self.locale != "en_GB":  # "tomorrow at 3pm" in a French conversation
            # ...but not an English abbreviation that is a word of the customer's language:
            # "de mon brushing" is no Monday
            english = parse_times(text, self.business.timezone, reference)
            found = [e for e in english if not _abbreviated(str(e.get("text") or ""))]
        return found

    def read(self, text: str, months: bool = True) -> When:
        """What `text` says about when (an ISO time from a button, or words). `months`:
        whether a month alone ("in April") counts; in answer to "your name?" it does not
        ("April Jones")."""
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            pass
        else:
            local = moment.replace(tzinfo=moment.tzinfo or self.zone).astimezone(self.zone)
            return When(local.date(), True, False, (local.time().replace(tzinfo=None),))
        when = When()
        if months:  # a name ("Fridah") is not a mistyped day
            text = self.spelled(text)
        text = self.bare_hours(text)
        today = self.now.astimezone(self.zone).date()
        for entity in self._parse(text, self.now):
            reading = self._reading(entity, months)
            before = text[: int(entity.get("start") or 0)].lower().split()[-1:]
            if reading and not reading.day_said and before and before[0] in THIS_DAY:
                # "this morning at 10": Duckling reads "morning at 10", tomorrow's once passed
                reading = replace(reading, day=today, day_said=True)
            when = _fill(when, reading)
        return when

    def _reading(self, entity: dict[str, Any], months: bool) -> When:
        info = entity["additional_info"]
        said = str(entity.get("text") or "")
        if info.get("type") == "interval":
            start = info.get("from", {}).get("value")
            end = info.get("to", {}).get("value")
            if not start:
                return When()
            begin = _moment(start, self.zone)
            finish = _moment(end, self.zone) if end else begin + dt.timedelta(hours=4)
            if (finish - begin) <= dt.timedelta(hours=12):  # a part of one day
                part = (begin.time().replace(tzinfo=None), finish.time().replace(tzinfo=None))
                return When(begin.date(), self._names_its_day(said), self._weekday(said), (), part)
            return When(period=(begin.date(), finish.date()))
        value = info.get("value")
        if not value:
            return When()
        moment = _moment(str(value), self.zone)
        grain = info.get("grain")
        article = _article(said) if grain in CLOCK_GRAINS else None
        if article:
            # "para un corte", "mañana para un tinte": Duckling reads the article as one
            # o'clock; what was said before it (a day, or nothing) is the reading
            rest = said[: -len(article)].rstrip()
            found = self._parse(rest, self.now) if rest else []
            return self._reading(found[0], months) if found else When()
        if grain in CLOCK_GRAINS:
            clocks: list[dt.time] = []
            for reading in info.get("values") or [{"value": value}]:
                if reading.get("value"):
                    clock = _moment(str(reading["value"]), self.zone).time().replace(tzinfo=None)
                    if clock not in clocks:
                        clocks.append(clock)
            said_day = self._names_its_day(said)
            return When(
                moment.date(),
                said_day,
                self._weekday(said),
                tuple(clocks),
                passed=self._passed(info),
            )
        if grain == "day":
            return When(moment.date(), True, self._weekday(said), passed=self._passed(info))
        if grain == "week":
            return When(period=(moment.date(), moment.date() + dt.timedelta(days=7)))
        if grain == "month" and months:
            following = (moment.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return When(period=(moment.date(), following.date()))
        return When()

    def _passed(self, info: dict[str, Any]) -> dt.date | None:
        """This month's day, when a day of the month said alone ("the 12th") has passed and
        Duckling read next month's: the customer is told, not booked a month later."""
        values = [v["value"] for v in info.get("values") or [] if v.get("value")]
        if len(values) < 2:
            return None
        first, second = (_moment(str(v), self.zone).date() for v in values[:2])
        if first.day != second.day or (second.month - first.month) % 12 != 1:
            return None
        today = self.now.astimezone(self.zone).date()
        if first.month == today.month:
            return None
        try:
            this_month = first.replace(year=today.year, month=today.month)
        except ValueError:  # "the 31st" in a month of 30 days
            return None
        return this_month if this_month < today else None

    def _names_its_day(self, said: str) -> bool:
        """Whether `said` names its day. Read at the start and at the end of today, a clock
        time said alone ("at 2 pm") falls on two days in a row; a part of the day said
        alone ("after lunch", "in the evening") stays on today, as "this afternoon" does,
        and only a word that is a day by itself ("today", "friday") or "this" makes it said."""
        words = said.lower().split()
        if any(word in THIS_DAY for word in words):  # "this morning at 10", "tonight at 9"
            return True
        today = self.now.astimezone(self.zone).date()
        days = []
        for clock in (dt.time(0, 1), dt.time(23, 58)):
            found = self._parse(said, dt.datetime.combine(today, clock, self.zone))
            if not found:
                return True
            info = found[0]["additional_info"]
            value = info.get("value") or (info.get("from") or {}).get("value")
            if not value:
                return True
            days.append(_moment(str(value), self.zone).date())
        if days[1] - days[0] == dt.timedelta(days=1):
            return False
        if days[0] != today:
            return True
        return any(word in THIS_DAY or self._is_a_day(word) for word in said.lower().split())

    def _is_a_day(self, word: str) -> bool:
        found = self._parse(word, self.now)
        return bool(found) and found[0]["additional_info"].get("grain") == "day"

    def _weekday(self, said: str) -> bool:
        return names_a_weekday(said)


def _abbreviated(said: str) -> bool:
    """Whether `said` is one short word ("mon", "sat", "mar"), as English abbreviates days
    and months."""
    word = said.strip().rstrip(".").lower()
    return len(word) <= 3 and word.isalpha()


def _article(said: str) -> str | None:
    """The article that a time expression is ("una") or ends with ("el viernes para una"),
    if any: one word only when it is the whole expression ("a la una" is one o'clock)."""
    lowered = said.lower()
    return next(
        (f for f in NOT_A_CLOCK if lowered == f or (" " in f and lowered.endswith(" " + f))),
        None,
    )


def _fill(when: When, reading: When) -> When:
    """Two expressions of one message ("at 6:30 pm ... on March 7th") make one time: a day
    that was said beats one that came with a clock time, and the first of each part wins."""
    day, day_said, weekday = when.day, when.day_said, when.weekday
    if reading.day and (not day or (reading.day_said and not day_said)):
        day, day_said, weekday = reading.day, reading.day_said, reading.weekday
    return replace(
        when,
        day=day,
        day_said=day_said,
        weekday=weekday,
        clocks=when.clocks or reading.clocks,
        part=when.part or (None if when.clocks else reading.part),
        period=when.period or reading.period,
        passed=when.passed or reading.passed,
    )


#: "an hour later", "une demi-heure plus tôt", "zwei Stunden später", "media hora antes":
#: how much, and which way; per language
_AMOUNTS = {
    "en": {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3},
    "fr": {"une": 1, "un": 1, "deux": 2, "trois": 3},
    "de": {"eine": 1, "einer": 1, "ein": 1, "zwei": 2, "drei": 3},
    "es": {"una": 1, "un": 1, "dos": 2, "tres": 3},
}
_HALF = {
    "en": r"half an hour",
    "fr": r"une demi-heure",
    "de": r"eine halbe stunde",
    "es": r"media hora",
}
_UNITS = {
    "en": (r"hours?|hrs?", r"minutes?|mins?"),
    "fr": (r"heures?", r"minutes?"),  # not "h": "à 15h après le travail" is no shift
    "de": (r"stunden?|std", r"minuten?|min"),
    "es": (r"horas?", r"minutos?|min"),
}
_LATER = {
    "en": r"later|back",
    "fr": r"plus tard|après",
    "de": r"später|nach hinten",
    "es": r"más tarde|después",
}
_EARLIER = {
    "en": r"earlier|forward|sooner",
    "fr": r"plus tôt|avant",
    "de": r"früher|nach vorne|vorher",
    "es": r"antes|más temprano",
}


def shift(text: str, language: str = "en") -> dt.timedelta | None:
    """How far a customer wants an appointment moved, if they say it that way: "an hour
    later", "push it back 30 minutes", "half an hour earlier" (positive: later). None when
    `text` names no amount and no direction."""
    if language not in _AMOUNTS:
        return None
    lowered = text.lower()
    hours, minutes = _UNITS[language]
    amount = rf"(?P<n>\d{{1,3}}|{'|'.join(_AMOUNTS[language])})\s*(?P<unit>{hours}|{minutes})\b"
    found = re.search(rf"(?P<half>{_HALF[language]})|{amount}", lowered)
    if found is None:
        return None
    if found.group("half"):
        delta = dt.timedelta(minutes=30)
    else:
        count = found.group("n")
        number = int(count) if count.isdigit() else _AMOUNTS[language][count]
        in_hours = re.fullmatch(hours, found.group("unit")) is not None
        delta = dt.timedelta(hours=number) if in_hours else dt.timedelta(minutes=number)
    rest = lowered[: found.start()] + " " + lowered[found.end() :]
    if re.search(rf"\b(?:{_EARLIER[language]})\b", rest):
        return -delta
    if re.search(rf"\b(?:{_LATER[language]})\b", rest):
        return delta
    return None


def understand_time(
    said: str, business: Business, now: dt.datetime, locale: str = "en_GB"
) -> Wanted | None:
    """The time in `said` alone (an ISO time from a button, or words in `locale`'s
    language), or None if there is none."""
    return Reader(business, now, locale).read(said).wanted(business, now)

"""Spoken times that Duckling misreads, rewritten before Duckling sees them.

Duckling reads "four in the evening" as 04:00 plus an evening interval, "afternoon 2" as
the number 2, and British "half four" not at all; "Tuesday week" and "a week on Tuesday"
it reads as the coming Tuesday, a week early ("Tuesday fortnight" two weeks early). Booking conversations are full of these, so
parlez rewrites them (English: "4:00pm", "4:30", "tuesday after next") and maps Duckling's
offsets back onto the user's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_HOUR = r"(?P<hour>1[0-2]|0?[1-9]|" + "|".join(_NUMBERS) + r")"
_MINUTE = r"(?:[:.](?P<minute>[0-5]\d))?"
_OCLOCK = r"(?:\s*o'?\s?clock)?"
_OFFSET = r"(?:(?P<offset>half past|quarter past|quarter to|a quarter past|a quarter to)\s+)?"
_PART = r"(?P<part>morning|afternoon|evening|night|tonight)"

_HOUR_THEN_PART = re.compile(
    rf"\b{_OFFSET}{_HOUR}{_MINUTE}{_OCLOCK}\s+(?:in\s+the\s+|at\s+|this\s+|tomorrow\s+)?{_PART}\b",
    re.IGNORECASE,
)
_PART_THEN_HOUR = re.compile(
    rf"\b{_PART}\s+(?:at\s+)?{_OFFSET}{_HOUR}{_MINUTE}{_OCLOCK}(?!\s*(?:am|pm|a\.m|p\.m|h\b|%|\d))\b",
    re.IGNORECASE,
)

#: British "half four" (4:30); "half past", "half an hour" and "half price" are not times
_HALF_HOUR = re.compile(rf"\bhalf\s+{_HOUR}\b(?!\s*(?:%|[:.]\d))", re.IGNORECASE)

_WEEKDAY = (
    r"(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thu(?:rs?)?|fri|sat)"
)
#: British "Tuesday week", "a week on Tuesday" (American "a week from Tuesday"): the Tuesday
#: after the coming one, which Duckling reads as the coming one, and knows as "tuesday after
#: next"; "a week today" it reads as today ("a week from today" it reads right)
_WEEK_AFTER = (
    re.compile(rf"\ba\s+week\s+(?:on\s+|from\s+)?{_WEEKDAY}\b", re.IGNORECASE),
    # not French "mon week-end" (my weekend)
    re.compile(rf"\b{_WEEKDAY}\s+week\b(?!-)", re.IGNORECASE),
)
#: "Tuesday fortnight", "a fortnight on Tuesday": a week later still, which Duckling reads
#: as "tuesday in two weeks" (and "a fortnight today" as today)
_FORTNIGHT_AFTER = (
    re.compile(rf"\ba\s+fortnight\s+(?:on\s+|from\s+)?{_WEEKDAY}\b", re.IGNORECASE),
    re.compile(rf"\b{_WEEKDAY}\s+fortnight\b", re.IGNORECASE),
)
_DAYS = {
    day[:3]: day
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}
_A_WEEK_FROM = re.compile(
    r"\ba\s+(?P<span>week|fortnight)\s+(?P<day>today|tomorrow)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Rewrite:
    """`original[start:end]` became `text`."""

    start: int
    end: int
    text: str


def _clock(hour_text: str, minute_text: str | None, offset: str | None, part: str) -> str | None:
    hour = _NUMBERS.get(hour_text.lower()) or int(hour_text)
    minute = int(minute_text) if minute_text else 0
    part = part.lower()
    if part == "morning":
        hour = 0 if hour == 12 else hour
    elif part in ("afternoon", "evening", "tonight"):
        hour = hour if hour == 12 and part == "afternoon" else (hour + 12 if hour < 12 else hour)
    elif part == "night":
        hour = hour + 12 if 6 <= hour < 12 else (0 if hour == 12 else hour)
    if offset:
        offset = offset.lower().removeprefix("a ")
        if offset == "half past":
            minute = 30
        elif offset == "quarter past":
            minute = 15
        elif offset == "quarter to":
            hour, minute = (hour - 1) % 24, 45
    if not (0 <= hour < 24):
        return None
    # 12-hour form with am/pm: a bare "10:00" would still be ambiguous to Duckling.
    return f"{(hour % 12) or 12}:{minute:02d}{'am' if hour < 12 else 'pm'}"


def rewrite(text: str) -> tuple[str, list[Rewrite]]:
    """The text with spoken clock times in 24-hour form, and what was replaced where."""
    rewrites: list[Rewrite] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_HOUR_THEN_PART, _PART_THEN_HOUR):
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            clock = _clock(
                match.group("hour"),
                match.group("minute"),
                match.group("offset"),
                match.group("part"),
            )
            if clock is None:
                continue
            # "tomorrow" inside the phrase stays in the text for Duckling to read the date.
            day = "tomorrow " if re.search(r"\btomorrow\b", match.group(0), re.IGNORECASE) else ""
            rewrites.append(Rewrite(match.start(), match.end(), f"{day}{clock}"))
            taken.append((match.start(), match.end()))
    for match in _HALF_HOUR.finditer(text):
        if any(match.start() < end and start < match.end() for start, end in taken):
            continue
        hour = _NUMBERS.get(match.group("hour").lower()) or int(match.group("hour"))
        rewrites.append(Rewrite(match.start(), match.end(), f"{hour}:30"))
        taken.append((match.start(), match.end()))
    for patterns, later in ((_WEEK_AFTER, "after next"), (_FORTNIGHT_AFTER, "in two weeks")):
        for pattern in patterns:
            for match in pattern.finditer(text):
                if any(match.start() < end and start < match.end() for start, end in taken):
                    continue
                day = _DAYS[match.group("day").lower()[:3]]
                rewrites.append(Rewrite(match.start(), match.end(), f"{day} {later}"))
                taken.append((match.start(), match.end()))
    for match in _A_WEEK_FROM.finditer(text):
        if not any(match.start() < end and start < match.end() for start, end in taken):
            span = "a week" if match.group("span").lower() == "week" else "two weeks"
            rewrites.append(
                Rewrite(match.start(), match.end(), f"{span} from {match.group('day')}")
            )
    rewrites.sort(key=lambda r: r.start)
    out, cursor = [], 0
    for r in rewrites:
        out += [text[cursor : r.start], r.text]
        cursor = r.end
    out.append(text[cursor:])
    return "".join(out), rewrites


def original_span(start: int, end: int, rewrites: list[Rewrite]) -> tuple[int, int]:
    """Map a span of the rewritten text back onto the original text."""
    return _to_original(start, rewrites, is_end=False), _to_original(end, rewrites, is_end=True)


def _to_original(position: int, rewrites: list[Rewrite], is_end: bool) -> int:
    shift = 0
    for r in rewrites:
        new_start = r.start + shift
        new_end = new_start + len(r.text)
        if position < new_start or (position == new_start and not is_end):
            break
        if position <= new_end:
            return r.end if is_end or position > new_start else r.start
        shift += len(r.text) - (r.end - r.start)
    return position - shift

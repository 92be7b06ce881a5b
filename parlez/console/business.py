"""The business's opening hours, closed dates and services, as the console edits them in the
project's `business.yml`: read for the form, checked, and written back key by key in place
(`parlez.io.yaml_edit`), so the comments and everything else in the file stay.

The assistant's actions read `business.yml` again whenever it changes: new hours decide the
next booking's free slots, with no restart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from parlez.io.yaml_edit import set_value

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
#: the environment variable that points the assistant (and so the console) at another file
BUSINESS_ENV = "PARLEZ_BUSINESS"


class SettingsProblem(ValueError):
    """What is wrong with what the form sent, in words for the person who sent it."""


def business_file(project: Path) -> Path:
    """The file the assistant reads: `PARLEZ_BUSINESS`, else the project's business.yml."""
    return Path(os.environ.get(BUSINESS_ENV) or project / "business.yml")


@dataclass
class Service:
    name: str
    duration: int | None
    price: float | None


@dataclass
class Settings:
    #: per weekday, its opening ranges ("09:00-18:00"); an empty list: closed
    hours: dict[str, list[str]] = field(default_factory=dict)
    closed_dates: list[date] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    currency: str = ""


def read_settings(text: str) -> Settings:
    raw: Any = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise SettingsProblem("business.yml is not a mapping")
    found = raw.get("hours")
    hours: dict[str, Any] = found if isinstance(found, dict) else {}
    services = [
        Service(str(s.get("name")), s.get("duration"), s.get("price"))
        for s in raw.get("services") or []
        if isinstance(s, dict) and s.get("name")
    ]
    return Settings(
        hours={day: [str(r) for r in (hours.get(day) or [])] for day in WEEKDAYS},
        closed_dates=[d for d in raw.get("closed_dates") or [] if isinstance(d, date)],
        services=services,
        currency=str(raw.get("currency") or ""),
    )


def ranges(day: str, text: str) -> list[str]:
    """A day's ranges as typed ("09:00-12:00, 14:00-18:00"; empty: closed), checked."""
    found = [part.replace(" ", "") for part in re.split(r"[,;]", text) if part.strip()]
    for part in found:
        match = _RANGE.match(part)
        if match is None:
            raise SettingsProblem(f"{day.title()}: '{part}' is not a range such as 09:00-18:00")
        start, end = part.split("-")
        if start >= end:
            raise SettingsProblem(f"{day.title()}: {part} ends before it starts")
    return sorted(found)


def dates(text: str) -> list[date]:
    found = []
    for line in text.replace(",", "\n").splitlines():
        if line.strip():
            try:
                found.append(date.fromisoformat(line.strip()))
            except ValueError:
                raise SettingsProblem(
                    f"'{line.strip()}' is not a date such as 2026-12-25"
                ) from None
    return sorted(set(found))


def number(label: str, text: str, whole: bool) -> int | float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SettingsProblem(f"{label}: '{text}' is not a number") from None
    if value < 0 or (whole and (value != int(value) or not 5 <= value <= 24 * 60)):
        raise SettingsProblem(
            f"{label}: {text} is not "
            + ("a duration in minutes (5 to 1440)" if whole else "a price of 0 or more")
        )
    return int(value) if whole or value == int(value) else round(value, 2)


def changed(text: str, form: dict[str, str], source: str) -> tuple[str, list[str]]:
    """`text` (business.yml) with what the form changed, and the keys it changed."""
    current = read_settings(text)
    keys: list[str] = []
    for day in WEEKDAYS:
        wanted = ranges(day, form.get(f"hours_{day}", ""))
        if wanted != current.hours.get(day, []):
            text = set_value(text, ["hours", day], wanted, source)
            keys.append(f"hours.{day}")
    if "closed_dates" in form:
        wanted_dates = dates(form["closed_dates"])
        if wanted_dates != sorted(current.closed_dates):
            text = set_value(text, ["closed_dates"], wanted_dates, source)
            keys.append("closed_dates")
    for position, service in enumerate(current.services):
        for key, whole in (("duration", True), ("price", False)):
            raw = form.get(f"{key}_{position}")
            if raw is None:
                continue
            value = number(f"{service.name} {key}", raw, whole)
            if value is not None and value != getattr(service, key):
                text = set_value(text, ["services", position, key], value, source)
                keys.append(f"services.{service.name}.{key}")
    return text, keys

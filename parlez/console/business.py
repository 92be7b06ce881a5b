"""The business's opening hours, closed dates and catalogue (services and products), as the
console edits them in the project's `business.yml`: read for the form, checked, and written
back key by key in place (`parlez.io.yaml_edit`), so the comments and everything else in the
file stay. Items are added at the end of their list and removed with their lines.

The assistant's actions read `business.yml` again whenever it changes: new hours decide the
next booking's free slots and the next answer about them, a new price is the next one
quoted, with no restart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from parlez.io.yaml_edit import append_item, remove_item, set_value

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
#: the environment variable that points the assistant (and so the console) at another file
BUSINESS_ENV = "PARLEZ_BUSINESS"


class SettingsProblem(ValueError):
    """What is wrong with what the form sent, in words for the person who sent it."""


def business_file(project: Path) -> Path:
    """The file the assistant reads: `PARLEZ_BUSINESS`, else the project's business.yml."""
    return Path(os.environ.get(BUSINESS_ENV) or project / "business.yml")


def read_business(project: Path) -> dict[str, Any]:
    """business.yml as the assistant reads it: `${VAR}` expanded and the secrets the console
    sealed opened ({} when there is none)."""
    from parlez.io.env import expand_all
    from parlez.io.yaml import read_yaml_file

    path = business_file(project)
    if not path.is_file():
        return {}
    raw = read_yaml_file(path)
    if not isinstance(raw, dict):
        return {}
    expand_all(raw)
    return dict(raw)


@dataclass
class Item:
    """A service or a product of the catalogue, as the form shows it."""

    name: str
    price: float | None
    duration: int | None = None  # services only
    price_from: bool = False
    description: str = ""


def _items(found: Any, services: bool) -> list[Item]:
    return [
        Item(
            str(raw.get("name")),
            raw.get("price"),
            raw.get("duration") if services else None,
            bool(raw.get("price_from")),
            str(raw.get("description") or ""),
        )
        for raw in found or []
        if isinstance(raw, dict) and raw.get("name")
    ]


@dataclass
class Settings:
    #: per weekday, its opening ranges ("09:00-18:00"); an empty list: closed
    hours: dict[str, list[str]] = field(default_factory=dict)
    closed_dates: list[date] = field(default_factory=list)
    services: list[Item] = field(default_factory=list)
    products: list[Item] = field(default_factory=list)
    currency: str = ""


def read_settings(text: str) -> Settings:
    raw: Any = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise SettingsProblem("business.yml is not a mapping")
    found = raw.get("hours")
    hours: dict[str, Any] = found if isinstance(found, dict) else {}
    return Settings(
        hours={day: [str(r) for r in (hours.get(day) or [])] for day in WEEKDAYS},
        closed_dates=[d for d in raw.get("closed_dates") or [] if isinstance(d, date)],
        services=_items(raw.get("services"), services=True),
        products=_items(raw.get("products"), services=False),
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
    for kind, items in (("services", current.services), ("products", current.products)):
        text = _items_changed(text, form, source, kind, items, keys)
    return _added(text, form, source, current, keys), keys


#: the form's fields of item N: `<prefix>price_N`... (services keep the prefix-less names
#: the page had before it showed products)
PREFIX = {"services": "", "products": "product_"}


def _items_changed(
    text: str, form: dict[str, str], source: str, kind: str, items: list[Item], keys: list[str]
) -> str:
    prefix = PREFIX[kind]
    removed = []
    for position, item in enumerate(items):
        if f"{prefix}price_{position}" not in form:
            continue  # not on the page that was sent
        if form.get(f"{prefix}remove_{position}"):
            removed.append(position)
            continue
        wanted: dict[str, Any] = {
            "price": number(f"{item.name} price", form[f"{prefix}price_{position}"], False),
            "price_from": bool(form.get(f"{prefix}from_{position}")),
            "description": form.get(f"{prefix}description_{position}", item.description).strip(),
        }
        if kind == "services":
            wanted["duration"] = number(
                f"{item.name} duration", form.get(f"duration_{position}", ""), True
            )
        for key, value in wanted.items():
            if (value is None and key in ("price", "duration")) or value == getattr(item, key):
                continue  # an emptied number keeps its value: a service needs a duration
            text = set_value(text, [kind, position, key], value, source)
            keys.append(f"{kind}.{item.name}.{key}")
    for position in reversed(removed):
        text = remove_item(text, [kind, position], source)
        keys.append(f"{kind}.{items[position].name} removed")
    return text


def _added(text: str, form: dict[str, str], source: str, current: Settings, keys: list[str]) -> str:
    """`text` with the service and the product the form's "add" rows name, if any."""
    taken = {item.name.lower() for item in [*current.services, *current.products]}
    for kind, label in (("services", "service"), ("products", "product")):
        name = " ".join(form.get(f"new_{label}_name", "").split())
        if not name:
            continue
        if name.lower() in taken:
            raise SettingsProblem(f"there is already a service or product called '{name}'")
        item: dict[str, Any] = {"name": name}
        price = number(f"{name} price", form.get(f"new_{label}_price", ""), False)
        if kind == "services":
            duration = number(f"{name} duration", form.get(f"new_{label}_duration", ""), True)
            if duration is None:
                raise SettingsProblem(f"{name}: a service needs its duration in minutes")
            item["duration"] = duration
        if price is not None:
            item["price"] = price
        text = append_item(text, [kind], item, source)
        keys.append(f"{kind}.{name} added")
        taken.add(name.lower())
    return text

"""The business's settings (`business.yml`): name, hours, services, time zone, contacts."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import Locale
from babel.numbers import is_currency
from pydantic import BaseModel, Field, ValidationError, field_validator

from parlez.exceptions import Location, ParlezError
from parlez.io.env import expand_all
from parlez.project import project_folder

#: the assistant's own settings, next to this package
REPO_SETTINGS = Path(__file__).resolve().parents[1] / "business.yml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BusinessSettingsError(ParlezError):
    code = "P520"


class Offer(BaseModel):
    """What the business sells, as its catalogue lists it: the one place its price is kept
    (the assistant quotes it, the console edits it)."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    #: the name in the other languages the business speaks: {fr: coupe, ...}
    names: dict[str, str] = Field(default_factory=dict)
    price: float | None = Field(None, ge=0)
    #: the price is where it starts ("colouring from 60 €"): it depends on the work
    price_from: bool = False
    description: str = ""
    #: the description in the other languages: {fr: ..., de: ...}
    descriptions: dict[str, str] = Field(default_factory=dict)

    def called(self, language: str) -> str:
        """The name in `language` (its `name` where none is given)."""
        return self.names.get(language, self.name)

    def described(self, language: str) -> str:
        return self.descriptions.get(language, self.description)


OfferT = TypeVar("OfferT", bound=Offer)


class Service(Offer):
    duration: int = Field(gt=0, description="minutes")


class Product(Offer):
    pass


class Contact(BaseModel):
    phone: str | None = None
    email: str | None = None
    notify: str | None = None


class Booking(BaseModel):
    slot_minutes: int = Field(15, gt=0)
    min_notice_minutes: int = Field(60, ge=0)
    max_days_ahead: int = Field(60, gt=0)
    calendar: dict[str, Any] = Field(default_factory=lambda: {"type": "local"})
    #: after a booking, ask a customer who has not said yes or no yet about offers by e-mail
    ask_about_offers: bool = True


class Business(BaseModel):
    name: str
    timezone: str = "UTC"
    languages: list[str] = Field(default_factory=lambda: ["en"])
    currency: str = "€"
    address: str = ""
    contact: Contact = Field(default_factory=Contact)
    email: dict[str, Any] = Field(default_factory=lambda: {"type": "file"})
    crm: dict[str, Any] = Field(default_factory=dict)
    hours: dict[str, list[str]] = Field(default_factory=dict)
    closed_dates: list[dt.date] = Field(default_factory=list)
    booking: Booking = Field(default_factory=Booking)
    services: list[Service] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        code = currency_code(value)
        if code is None:
            raise ValueError(f"unknown currency '{value}' (use an ISO code like EUR, GBP, USD)")
        return code

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use a name like Europe/London)"
            ) from None
        return value

    @field_validator("hours")
    @classmethod
    def _ranges(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, ranges in value.items():
            if day.lower() not in WEEKDAYS:
                raise ValueError(f"'{day}' is not a weekday")
            for text in ranges:
                start, _, end = text.partition("-")
                try:
                    if dt.time.fromisoformat(start.strip()) >= dt.time.fromisoformat(end.strip()):
                        raise ValueError
                except ValueError:
                    raise ValueError(f"'{text}' on {day} is not a range like 09:00-18:00") from None
        return {day.lower(): ranges for day, ranges in value.items()}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def opening(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open periods of `day`, as aware datetimes (none on closed days)."""
        if day in self.closed_dates:
            return []
        periods = []
        for text in self.hours.get(WEEKDAYS[day.weekday()], []):
            start, _, end = text.partition("-")
            periods.append(
                (
                    dt.datetime.combine(day, dt.time.fromisoformat(start.strip()), self.zone),
                    dt.datetime.combine(day, dt.time.fromisoformat(end.strip()), self.zone),
                )
            )
        return periods

    def called(self, service_name: str, language: str) -> str:
        """What a service (by its `name`, as the calendar keeps it) is called in `language`."""
        found = next((s for s in self.services if s.name == service_name), None)
        return found.called(language) if found else service_name

    def service(self, said: str | None, close: bool = True) -> Service | None:
        """The service a customer means ("a color", "Beard"), or None. `close`: a close
        spelling counts too; without it, only a name or alias in the words does ("Anna
        Schneider" is not "Haare schneiden")."""
        return _meant(self.services, said, close)

    def offer(self, said: str | None, close: bool = True) -> Offer | None:
        """The service or product a customer means ("how much is the shampoo?"), or None."""
        return _meant([*self.services, *self.products], said, close)


def _meant(offers: Sequence[OfferT], said: str | None, close: bool) -> OfferT | None:
    if not said:
        return None
    text = _words(said)
    names: dict[str, OfferT] = {}
    for offer in offers:
        for name in (offer.name, *offer.aliases, *offer.names.values()):
            names[_words(name)] = offer
    if text in names:
        return names[text]
    # "a haircut please"; the longest name first: "beard trim" before "trim"
    for name in sorted(names, key=len, reverse=True):
        if f" {name} " in f" {text} ":
            return names[name]
    if not close:
        return None
    # A compound holds a name as its first or last part ("Bartschneiden", "Kinderhaarschnitt"):
    # read before close spellings, which find "Haare schneiden" in "Bartschneiden"
    part = _compound_part(text, names)
    if part:
        return names[part]
    spelled = difflib.get_close_matches(text, list(names), n=1, cutoff=0.75)
    return names[spelled[0]] if spelled else None


def _compound_part(text: str, names: Iterable[str]) -> str | None:
    """The longest one-word name of at least four letters that begins or ends a longer
    word of `text` (by three letters or more: "colours" is a spelling, not a compound)."""
    found = [
        name
        for word in text.split()
        for name in names
        if " " not in name
        and len(name) >= 4
        and len(word) >= len(name) + 3
        and (word.startswith(name) or word.endswith(name))
    ]
    return max(found, key=len, default=None)


def currency_code(value: str) -> str | None:
    """The ISO 4217 code of a currency given by its code ("EUR") or symbol ("€", "£", "$")."""
    value = value.strip()
    if is_currency(value.upper()):
        return value.upper()
    symbols = Locale("en").currency_symbols
    return next((code for code, symbol in symbols.items() if symbol == value), None)


def _words(text: str) -> str:
    """Lower case, hyphens and punctuation as spaces: "Blow dry" and "blow-dry" are the
    same service, and "a beard trim?" names one."""
    return " ".join(re.sub(r"[^\w'’]+", " ", text.lower()).split())


def settings_path() -> Path:
    """`business.yml` of the project being served, unless PARLEZ_BUSINESS names another."""
    return Path(os.environ.get("PARLEZ_BUSINESS", project_folder() / "business.yml"))


@functools.lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> Business:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise BusinessSettingsError(f"cannot read the business settings: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise BusinessSettingsError(
            f"invalid YAML: {error}", Location(str(path), mark.line + 1 if mark else None)
        ) from None
    try:
        expand_all(raw)  # ${VAR}, and the secrets the console sealed
    except ParlezError as error:
        raise BusinessSettingsError(error.message, error.where, hint=error.hint) from None
    try:
        return Business.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise BusinessSettingsError(problems, Location(str(path))) from None


def business(path: Path | None = None) -> Business:
    """The settings, read again when the file changes (edits apply without a restart)."""
    path = path or settings_path()
    return _load(path, path.stat().st_mtime if path.exists() else 0.0)

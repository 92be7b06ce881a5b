"""The follow-up e-mails' rules (`follow_ups:` in marketing.yml) and their templates
(`follow_ups/<template>.<language>.txt`, and `.html` beside it if wanted).

    public_url: https://chat.maplestreetstudio.example
    follow_ups:
      still-need-help: {after: unresolved, wait_days: 1, template: still-need-help}
      how-was-it: {after: booked, wait_days: 2, template: review-request}
      book-now: {after: lead, unless: [booked], wait_days: 7, template: book-now}
      reminder: {after: booked, from_slot: appointment_time, wait_days: -1, template: reminder}

A template's first line is its subject (`Subject: ...`), then a blank line, then the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from parlez.console.audience import MarketingFileError
from parlez.exceptions import Location
from parlez.io.schema import known_keys
from parlez.io.yaml import where

FOLDER = "follow_ups"
#: what `after:` may name beside the outcomes of analytics.yml
UNRESOLVED = "unresolved"
KEYS = ("after", "unless", "wait_days", "late_days", "template", "from_slot")
#: a follow-up is not sent more than this late (a server down for a while, a new rule)
LATE_DAYS = 2.0
NAME_LENGTH = 64

#: the text part: written as the business wrote it, the customer's name as they gave it
texts = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
#: the HTML part: everything a customer wrote is escaped
pages = SandboxedEnvironment(autoescape=True)


@dataclass(frozen=True)
class FollowUpRule:
    name: str
    #: `unresolved`, or an outcome of analytics.yml (booked, lead...)
    after: str
    wait_days: float
    template: str
    #: outcomes that, reached by the customer since, make the e-mail pointless
    unless: tuple[str, ...] = ()
    late_days: float = LATE_DAYS
    #: count `wait_days` from the time this slot holds (an appointment's), not from the
    #: customer's last message; `wait_days` may then be negative (a reminder before it)
    from_slot: str = ""
    #: where marketing.yml names the template (a missing or broken one is reported there)
    at: Location | None = field(default=None, compare=False)

    @property
    def wait(self) -> float:
        return self.wait_days * 86400

    @property
    def late(self) -> float:
        return self.late_days * 86400


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str | None


class FollowUpTemplates:
    """The project's follow_ups/ folder, read when a follow-up is written (an edit counts
    at once)."""

    def __init__(self, project: Path, default_language: str = "en") -> None:
        self.folder = project / FOLDER
        self.default_language = default_language

    def languages(self, template: str) -> list[str]:
        return sorted(p.name.split(".")[-2] for p in self.folder.glob(f"{template}.*.txt"))

    def render(self, template: str, language: str, values: Mapping[str, Any]) -> Email:
        """The e-mail in the customer's language, else the business's first, else English."""
        for wanted in (language, self.default_language, "en", *self.languages(template)):
            path = self.folder / f"{template}.{wanted}.txt"
            if path.is_file():
                break
        else:
            raise MarketingFileError(f"no template {FOLDER}/{template}.<language>.txt")
        subject, text = _subject(path, texts.from_string(_read(path)).render(**values))
        html_path = path.with_suffix(".html")
        html = pages.from_string(_read(html_path)).render(**values) if html_path.is_file() else None
        return Email(subject, text, html)

    def check(self, template: str, at: Location) -> None:
        """Every language of `template` reads (a broken one names its file and line)."""
        found = self.languages(template)
        if not found:
            raise MarketingFileError(
                f"the template '{template}' has no file",
                at,
                hint=f"write {FOLDER}/{template}.{self.default_language}.txt: "
                "'Subject: ...', a blank line, then the text",
            )
        for language in found:
            for suffix, environment in ((".txt", texts), (".html", pages)):
                path = self.folder / f"{template}.{language}{suffix}"
                if not path.is_file():
                    continue
                try:
                    environment.parse(_read(path))
                except TemplateSyntaxError as error:
                    raise MarketingFileError(
                        f"{error.message}", Location(f"{FOLDER}/{path.name}", error.lineno)
                    ) from None
                if suffix == ".txt" and not _read(path).startswith("Subject:"):
                    raise MarketingFileError(
                        "a follow-up's text starts with its subject",
                        Location(f"{FOLDER}/{path.name}", 1),
                        hint="Subject: Did you find what you needed?",
                    )


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _subject(path: Path, rendered: str) -> tuple[str, str]:
    first, _, rest = rendered.partition("\n")
    if not first.startswith("Subject:"):
        raise MarketingFileError(
            "a follow-up's text starts with its subject",
            Location(f"{FOLDER}/{path.name}", 1),
            hint="Subject: Did you find what you needed?",
        )
    return first.removeprefix("Subject:").strip(), rest.lstrip("\n")


def read_follow_ups(raw: Any, at: Location, outcomes: tuple[str, ...]) -> tuple[FollowUpRule, ...]:
    """The `follow_ups:` mapping; `outcomes` are analytics.yml's (and the reports' own)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise MarketingFileError(
            "'follow_ups' maps a name to a rule",
            at,
            hint="still-need-help: {after: unresolved, wait_days: 1, template: still-need-help}",
        )
    rules = []
    for name, spec in raw.items():
        here = where(raw, name) or at
        if not isinstance(name, str) or not 0 < len(name) <= NAME_LENGTH:
            raise MarketingFileError(f"a follow-up's name is 1 to {NAME_LENGTH} characters", here)
        if not isinstance(spec, dict):
            raise MarketingFileError(f"the follow-up '{name}' is a mapping", here)
        known_keys(spec, KEYS, f"the follow-up '{name}'", here, MarketingFileError)
        known = (UNRESOLVED, *outcomes)
        after = spec.get("after")
        if after not in known:
            raise MarketingFileError(
                f"the follow-up '{name}' comes after '{after}', which is not an outcome",
                where(spec, "after", value=True) or here,
                hint=f"one of {', '.join(known)}",
            )
        unless = spec.get("unless", [])
        unless = [unless] if isinstance(unless, str) else unless
        if not isinstance(unless, list) or not all(u in outcomes for u in unless):
            raise MarketingFileError(
                f"'unless' lists outcomes that make the follow-up '{name}' pointless",
                where(spec, "unless", value=True) or here,
                hint=f"any of {', '.join(outcomes)}",
            )
        from_slot = spec.get("from_slot", "")
        if not isinstance(from_slot, str) or (from_slot and after == UNRESOLVED):
            raise MarketingFileError(
                f"'from_slot' of the follow-up '{name}' names the slot that holds a time "
                "(an outcome's, such as booked)",
                where(spec, "from_slot", value=True) or here,
                hint="from_slot: appointment_time",
            )
        numbers = {}
        for key, default in (("wait_days", None), ("late_days", LATE_DAYS)):
            value = spec.get(key, default)
            negative_allowed = key == "wait_days" and bool(from_slot)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (value < 0 and not negative_allowed)
            ):
                raise MarketingFileError(
                    f"'{key}' of the follow-up '{name}' is a number of days",
                    where(spec, key, value=True) or here,
                    hint="wait_days: 1  (0.5 is twelve hours)",
                )
            numbers[key] = float(value)
        template = spec.get("template")
        if not isinstance(template, str) or not template.strip() or "/" in template:
            raise MarketingFileError(
                f"the follow-up '{name}' names its template",
                where(spec, "template", value=True) or here,
                hint=f"template: {name}  (the file {FOLDER}/{name}.en.txt)",
            )
        rules.append(
            FollowUpRule(
                name,
                str(after),
                numbers["wait_days"],
                template.strip(),
                tuple(unless),
                numbers["late_days"],
                from_slot,
                where(spec, "template", value=True) or here,
            )
        )
    return tuple(rules)

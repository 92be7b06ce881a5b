"""`analytics.yml`: what the reports count as an outcome (a booking, a lead...), which
actions are fallbacks and which answer from the knowledge base, and the reports' time zone.

Outcomes are the project's own: parlez cannot know that `action_book_appointment` books.
Each is an action that ran, optionally only when it set (`sets:`) or emptied (`clears:`)
a slot, so that a booking that failed is not counted as made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parlez.console.analytics.roi import ROI_KEYS, RoiConfig
from parlez.exceptions import Location, ParlezError
from parlez.io.schema import known_keys
from parlez.io.yaml import document_start, read_text_file, read_yaml, read_yaml_file, where

logger = logging.getLogger(__name__)

FILE = "analytics.yml"
#: Rasa's own fallback actions, and the response they send
DEFAULT_FALLBACKS = ("action_default_fallback", "action_two_stage_fallback", "utter_default")
OUTCOME_KEYS = ("action", "sets", "clears")
TOP_KEYS = (
    "timezone",
    "outcomes",
    "conversions",
    "fallback_actions",
    "knowledge_actions",
    "labels",
    "weekly_report",
    "ask_rating",
    "ask_rating_after",
    "roi",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKLY_KEYS = ("to", "day", "hour")
#: what a label rule may test; every test it names must hold
RULE_KEYS = ("intent", "entity", "value", "keyword", "sentiment", "outcome", "channel", "language")
SENTIMENTS = ("negative", "neutral", "positive")
#: outcomes every conversation has, besides those analytics.yml names
BUILT_IN_OUTCOMES = ("resolved", "unresolved", "handed_over", "converted")
#: what a label may be (as the inbox takes it by hand)
LABEL = re.compile(r"^[\w-]{1,64}$")


class AnalyticsFileError(ParlezError):
    code = "P540"


@dataclass(frozen=True)
class Outcome:
    """An outcome reached when `action` ran and, if given, set `sets` to a value or emptied
    `clears`."""

    name: str
    action: str
    sets: str | None = None
    clears: str | None = None

    def reached(self, slots: dict[str, Any]) -> bool:
        """Whether the action's run, which set these slots, reaches the outcome."""
        if self.sets is not None and slots.get(self.sets) is None:
            return False
        return self.clears is None or (self.clears in slots and slots[self.clears] is None)


@dataclass(frozen=True)
class LabelRule:
    """A label given to every conversation in which all of the rule's tests hold: one of
    its customer messages has the intent, the entity (with the value), one of the keywords
    or the sentiment; it reached the outcome; it came on the channel, in the language."""

    label: str
    intents: tuple[str, ...] = ()
    entity: str | None = None
    value: str | None = None
    keywords: tuple[str, ...] = ()
    sentiment: str | None = None
    outcome: str | None = None
    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class WeeklyReport:
    """When the weekly e-mail report goes, and to whom (the console's owners when `to` is
    empty), in the reports' time zone."""

    to: tuple[str, ...] = ()
    day: int = 0  # Monday
    hour: int = 8


@dataclass(frozen=True)
class AnalyticsConfig:
    timezone: str = "UTC"
    outcomes: tuple[Outcome, ...] = ()
    #: outcomes that make a conversation a conversion (all of them when not given)
    conversions: tuple[str, ...] = ()
    fallback_actions: tuple[str, ...] = DEFAULT_FALLBACKS
    knowledge_actions: tuple[str, ...] = ()
    labels: tuple[LabelRule, ...] = ()
    #: None: no weekly e-mail (it is sent only when analytics.yml asks for it)
    weekly_report: WeeklyReport | None = None
    #: ask the customer for a rating when a person resolves the conversation
    ask_rating: bool = True
    #: and after the assistant runs one of these actions (its goodbye)
    ask_rating_after: tuple[str, ...] = ()
    #: the costs the ROI report weighs
    roi: RoiConfig = field(default_factory=RoiConfig)
    #: where it was read from, for the reports' footnote ("" when there is no file)
    source: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def outcome_names(self) -> tuple[str, ...]:
        """The outcomes analytics.yml names (those every conversation has left out)."""
        return tuple(o.name for o in self.outcomes)

    @property
    def converting(self) -> tuple[str, ...]:
        return self.conversions or tuple(o.name for o in self.outcomes)

    @property
    def digest(self) -> str:
        """Names what the reports were counted with: the conversations are counted again
        when it changes."""
        text = json.dumps(
            [
                self.timezone,
                [vars(o) for o in self.outcomes],
                self.conversions,
                self.fallback_actions,
                self.knowledge_actions,
                [vars(rule) for rule in self.labels],
            ],
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @classmethod
    def load(cls, project: Path, timezone: str | None = None) -> AnalyticsConfig:
        """The project's `analytics.yml`; the defaults without one. `timezone` is the one
        to use when the file names none (the business's)."""
        path = project / FILE
        if not path.is_file():
            return cls(timezone=timezone if timezone and _known_zone(timezone) else "UTC")
        return cls.from_text(read_text_file(path), timezone)

    @classmethod
    def from_text(cls, text: str, timezone: str | None = None) -> AnalyticsConfig:
        """analytics.yml's text read as the file (what the console checks before saving)."""
        fallback_zone = timezone if timezone and _known_zone(timezone) else "UTC"
        raw = read_yaml(text, FILE)
        at = Location(FILE)
        if raw is None:
            return cls(timezone=fallback_zone, source=FILE)
        if not isinstance(raw, dict):
            raise AnalyticsFileError(
                f"{FILE} must be a mapping such as 'outcomes:'", document_start(raw, at)
            )
        known_keys(raw, TOP_KEYS, FILE, at, AnalyticsFileError)
        zone = raw.get("timezone") or fallback_zone
        if not isinstance(zone, str) or not _known_zone(zone):
            raise AnalyticsFileError(
                f"'{zone}' is not a time zone",
                where(raw, "timezone", value=True) or at,
                hint="a name such as Europe/Paris",
            )
        outcomes = _outcomes(raw.get("outcomes"), raw, at)
        names = {o.name for o in outcomes}
        conversions = _names(raw, "conversions", at)
        for name in conversions:
            if name not in names:
                raise AnalyticsFileError(
                    f"the conversion '{name}' is not one of the outcomes",
                    where(raw, "conversions", value=True) or at,
                    hint=f"the outcomes are {', '.join(sorted(names)) or 'none'}",
                )
        fallbacks = _names(raw, "fallback_actions", at) if "fallback_actions" in raw else None
        labels = _labels(raw.get("labels"), raw, at, names)
        return cls(
            timezone=zone,
            outcomes=outcomes,
            conversions=conversions,
            fallback_actions=DEFAULT_FALLBACKS if fallbacks is None else fallbacks,
            knowledge_actions=_names(raw, "knowledge_actions", at),
            labels=labels,
            weekly_report=_weekly(raw, at),
            ask_rating=_flag(raw, "ask_rating", True, at),
            ask_rating_after=_names(raw, "ask_rating_after", at),
            roi=_roi(raw.get("roi"), where(raw, "roi") or at),
            source=FILE,
        )


def _roi(raw: Any, at: Location) -> RoiConfig:
    """analytics.yml's `roi:`."""
    if raw is None:
        return RoiConfig()
    if not isinstance(raw, dict):
        raise AnalyticsFileError("'roi' holds the costs the ROI report weighs", at)
    known_keys(raw, ROI_KEYS, "'roi'", at, AnalyticsFileError)
    values: dict[str, Any] = {}
    for key in ROI_KEYS[1:5]:
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise AnalyticsFileError(
                    f"'{key}' is a number, 0 or more", where(raw, key, value=True) or at
                )
            values[key] = float(value)
    if "conversions" in raw:
        names = raw["conversions"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise AnalyticsFileError(
                "'conversions' lists the events the pages report (purchase...)",
                where(raw, "conversions", value=True) or at,
            )
        values["conversions"] = tuple(names)
    if "currency" in raw:
        currency = raw["currency"]
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise AnalyticsFileError(
                "'currency' is a three-letter code such as EUR",
                where(raw, "currency", value=True) or at,
            )
        values["currency"] = currency.upper()
    return RoiConfig(**values)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _names(raw: dict[str, Any], key: str, at: Location) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AnalyticsFileError(
            f"'{key}' must be a list of names", where(raw, key, value=True) or at
        )
    return tuple(value)


def _outcomes(value: Any, raw: dict[str, Any], at: Location) -> tuple[Outcome, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise AnalyticsFileError(
            "'outcomes' must map each outcome's name to its action",
            where(raw, "outcomes", value=True) or at,
            hint="such as 'booked: {action: action_book_appointment, sets: booking_id}'",
        )
    found = []
    for name, rule in value.items():
        place = where(value, name) or at
        if not isinstance(rule, dict) or not isinstance(rule.get("action"), str):
            raise AnalyticsFileError(
                f"the outcome '{name}' needs an 'action:'",
                place,
                hint="such as 'lead: {action: action_save_lead}'",
            )
        known_keys(rule, OUTCOME_KEYS, f"the outcome '{name}'", place, AnalyticsFileError)
        for key in ("sets", "clears"):
            if key in rule and not isinstance(rule[key], str):
                raise AnalyticsFileError(
                    f"the outcome '{name}': '{key}' names one slot", where(rule, key) or place
                )
        found.append(Outcome(str(name), rule["action"], rule.get("sets"), rule.get("clears")))
    return tuple(found)


def _flag(raw: dict[str, Any], key: str, default: bool, at: Location) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise AnalyticsFileError(f"'{key}' is true or false", where(raw, key, value=True) or at)
    return value


def _weekly(raw: dict[str, Any], at: Location) -> WeeklyReport | None:
    if "weekly_report" not in raw:
        return None
    value = raw["weekly_report"] or {}
    place = where(raw, "weekly_report") or at
    if not isinstance(value, dict):
        raise AnalyticsFileError(
            "'weekly_report' is a mapping such as '{day: monday, hour: 8}'", place
        )
    known_keys(value, WEEKLY_KEYS, "'weekly_report'", place, AnalyticsFileError)
    to = _one_or_many(value.get("to")) if value.get("to") is not None else ()
    if to is None or not all("@" in address for address in to):
        raise AnalyticsFileError(
            "'weekly_report': 'to' is an e-mail address or a list of them",
            where(value, "to", value=True) or place,
        )
    day = str(value.get("day", "monday")).lower()
    if day not in WEEKDAYS:
        raise AnalyticsFileError(
            f"'weekly_report': '{day}' is not a day of the week",
            where(value, "day", value=True) or place,
        )
    hour = value.get("hour", 8)
    if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
        raise AnalyticsFileError(
            "'weekly_report': 'hour' is 0 to 23", where(value, "hour", value=True) or place
        )
    return WeeklyReport(tuple(to), WEEKDAYS.index(day), hour)


def _one_or_many(value: Any) -> tuple[str, ...] | None:
    """A name or a list of names; None when it is neither."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _labels(
    value: Any, raw: dict[str, Any], at: Location, outcomes: set[str]
) -> tuple[LabelRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise AnalyticsFileError(
            "'labels' must map each label to its rule",
            where(raw, "labels", value=True) or at,
            hint="such as 'refund: {keyword: [refund, money back]}'",
        )
    found = []
    for label, rule in value.items():
        place = where(value, label) or at
        if not LABEL.match(str(label)):
            raise AnalyticsFileError(
                f"'{label}' is not a label", place, hint="1 to 64 letters, digits, '-' or '_'"
            )
        if not isinstance(rule, dict) or not rule:
            raise AnalyticsFileError(
                f"the label '{label}' needs a rule",
                place,
                hint=f"one or more of {', '.join(RULE_KEYS)}",
            )
        known_keys(rule, RULE_KEYS, f"the label '{label}'", place, AnalyticsFileError, "test")
        tests: dict[str, tuple[str, ...]] = {}
        for key, test in rule.items():
            spot = where(rule, key) or place
            names = _one_or_many(test)
            if names is None:
                raise AnalyticsFileError(
                    f"the label '{label}': '{key}' is a name or a list of names", spot
                )
            tests[key] = names
        single = {k: v[0] for k, v in tests.items() if k in ("entity", "value", "sentiment")}
        if "value" in tests and "entity" not in tests:
            raise AnalyticsFileError(
                f"the label '{label}': 'value' goes with 'entity'", where(rule, "value") or place
            )
        if single.get("sentiment") not in (None, *SENTIMENTS):
            raise AnalyticsFileError(
                f"the label '{label}': the sentiment is one of {', '.join(SENTIMENTS)}",
                where(rule, "sentiment", value=True) or place,
            )
        outcome = tests.get("outcome", (None,))[0]
        if outcome is not None and outcome not in (*outcomes, *BUILT_IN_OUTCOMES):
            raise AnalyticsFileError(
                f"the label '{label}': '{outcome}' is no outcome",
                where(rule, "outcome", value=True) or place,
                hint=f"the outcomes are {', '.join(sorted((*outcomes, *BUILT_IN_OUTCOMES)))}",
            )
        found.append(
            LabelRule(
                str(label),
                intents=tests.get("intent", ()),
                entity=single.get("entity"),
                value=single.get("value"),
                keywords=tuple(k.lower() for k in tests.get("keyword", ())),
                sentiment=single.get("sentiment"),
                outcome=outcome,
                channels=tests.get("channel", ()),
                languages=tests.get("language", ()),
            )
        )
    return tuple(found)


def business_zone(project: Path) -> str | None:
    """The time zone business.yml names, if it names one."""
    from parlez.console.business import business_file

    zone = None
    try:
        business = read_yaml_file(business_file(project))
        if isinstance(business, dict) and isinstance(business.get("timezone"), str):
            zone = business["timezone"]
    except (OSError, ParlezError):
        pass  # the business's own problems are told where it is read
    return zone


def configured(project: Path) -> tuple[AnalyticsConfig, ParlezError | None]:
    """What the reports count for this project, the business's time zone by default. A
    broken analytics.yml is logged and reported, and the defaults count meanwhile: the
    assistant keeps answering."""
    zone = business_zone(project)
    try:
        return AnalyticsConfig.load(project, zone), None
    except ParlezError as error:  # this file's mistakes, and YAML's or the encoding's
        logger.error("%s", error)
        return AnalyticsConfig(timezone=zone if zone and _known_zone(zone) else "UTC"), error

"""Segments: groups of customers defined by what they did in chat, evaluated in SQL over the
customers and the reports' rows (`segments:` in marketing.yml).

A segment's conditions must all hold; a condition that lists several values holds for any
of them:

    segments:
      colour-curious: {intent: [ask_balayage, ask_colour]}
      booked-balayage: {outcome: booked, entity: {service: balayage}}
      happy-french: {language: fr, rating_at_least: 4}
      lapsed: {not_seen_for_days: 90, consent: true}

The customers' page lists a segment's customers and exports them (CSV); the e-mail platform's
members carry their segments as tags.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from parlez.console.audience import MarketingFileError
from parlez.console.models import (
    analytics_conversations,
    analytics_counts,
    contact_conversations,
    contacts,
    labels,
)
from parlez.exceptions import Location
from parlez.io.schema import known_keys
from parlez.io.yaml import where

#: conditions on the reports' counted names (any session of any of the customer's
#: conversations), and the kind of row each reads
COUNTED = {"intent": "intent", "outcome": "outcome", "label": "label"}
#: conditions on the customer's conversations as the reports count them
SESSION = ("language", "channel")
NUMBERS = ("rating_at_least", "rating_at_most", "seen_within_days", "not_seen_for_days")
KEYS = (*COUNTED, "entity", *SESSION, *NUMBERS, "consent")
#: what a segment may be called (it becomes a tag)
NAME_LENGTH = 64


@dataclass(frozen=True)
class Segment:
    name: str
    #: condition -> its values (names; for `entity`, "name=value")
    names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    numbers: tuple[tuple[str, float], ...] = ()
    consent: bool | None = None

    def describe(self) -> str:
        """The conditions, as a page shows them."""
        parts = [f"{key}: {' or '.join(values)}" for key, values in self.names]
        parts += [f"{key.replace('_', ' ')} {value:g}" for key, value in self.numbers]
        if self.consent is not None:
            parts.append("said yes to e-mails" if self.consent else "said no to e-mails")
        return "; ".join(parts) or "every customer"

    def query(self, now: float | None = None) -> Select[Any]:
        """The ids of the customers in the segment (merged ones left out)."""
        now = time.time() if now is None else now
        conditions: list[ColumnElement[bool]] = [contacts.c.merged_into.is_(None)]
        for key, values in self.names:
            if key in COUNTED or key == "entity":
                counted = select(contact_conversations.c.contact_id).join(
                    analytics_counts,
                    analytics_counts.c.sender_id == contact_conversations.c.sender_id,
                )
                kind = COUNTED.get(key, "entity")
                condition = and_(
                    analytics_counts.c.kind == kind, analytics_counts.c.name.in_(values)
                )
                conditions_of_key = [contacts.c.id.in_(counted.where(condition))]
                if key == "outcome":  # those every conversation has are the reports' columns
                    conditions_of_key += [
                        contacts.c.id.in_(_sessions_where(BUILT_IN[v]))
                        for v in values
                        if v in BUILT_IN
                    ]
                if key == "label":  # set by hand too
                    conditions_of_key.append(
                        contacts.c.id.in_(
                            select(contact_conversations.c.contact_id)
                            .join(labels, labels.c.sender_id == contact_conversations.c.sender_id)
                            .where(labels.c.label.in_(values))
                        )
                    )
                conditions.append(or_(*conditions_of_key))
            else:
                column = analytics_conversations.c[key]
                conditions.append(contacts.c.id.in_(_sessions_where(column.in_(values))))
        for key, number in self.numbers:
            if key.startswith("rating"):
                rating = analytics_conversations.c.rating
                test = rating >= number if key == "rating_at_least" else rating <= number
                conditions.append(
                    contacts.c.id.in_(_sessions_where(and_(rating.is_not(None), test)))
                )
            elif key == "seen_within_days":
                conditions.append(contacts.c.last_seen >= now - number * 86400)
            else:
                conditions.append(contacts.c.last_seen < now - number * 86400)
        if self.consent is not None:
            conditions.append(contacts.c.consent.is_(self.consent))
        return select(contacts.c.id).where(*conditions)


#: the outcomes every conversation has, as the reports' columns say them
BUILT_IN = {
    "resolved": analytics_conversations.c.resolved.is_(True),
    "unresolved": analytics_conversations.c.resolved.is_(False),
    "handed_over": analytics_conversations.c.handed_over.is_(True),
    "converted": analytics_conversations.c.converted.is_(True),
}


def _sessions_where(condition: ColumnElement[bool]) -> Select[Any]:
    """The customers with a conversation of which a session meets `condition`."""
    return (
        select(contact_conversations.c.contact_id)
        .join(
            analytics_conversations,
            analytics_conversations.c.sender_id == contact_conversations.c.sender_id,
        )
        .where(condition)
    )


def read_segments(raw: Any, at: Location) -> tuple[Segment, ...]:
    """`segments:` of marketing.yml; a mistake names its line (P555)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise MarketingFileError("'segments' maps each segment's name to its conditions", at)
    found = []
    for name, spec in raw.items():
        here = where(raw, name) or at
        name = str(name)
        if not name or len(name) > NAME_LENGTH or any(c.isspace() for c in name):
            raise MarketingFileError(
                f"the segment '{name}' needs a name without spaces, {NAME_LENGTH} characters "
                "at most (it becomes a tag)",
                here,
            )
        if not isinstance(spec, dict) or not spec:
            raise MarketingFileError(
                f"the segment '{name}' needs conditions", here, hint="such as {intent: ask_price}"
            )
        known_keys(spec, KEYS, f"the segment '{name}'", here, MarketingFileError)
        names: list[tuple[str, tuple[str, ...]]] = []
        numbers: list[tuple[str, float]] = []
        consent = None
        for key, value in spec.items():
            line = where(spec, key, value=True) or here
            if key == "entity":
                if not isinstance(value, dict) or not value:
                    raise MarketingFileError(
                        f"the segment '{name}': 'entity' maps an entity to its values",
                        line,
                        hint="such as {service: [balayage, colour]}",
                    )
                names.append(
                    (
                        "entity",
                        tuple(f"{e}={v}" for e, values in value.items() for v in _values(values)),
                    )
                )
            elif key in NUMBERS:
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise MarketingFileError(f"the segment '{name}': '{key}' is a number", line)
                numbers.append((key, float(value)))
            elif key == "consent":
                if not isinstance(value, bool):
                    raise MarketingFileError(
                        f"the segment '{name}': 'consent' is true or false", line
                    )
                consent = value
            else:
                values = _values(value)
                if not values:
                    raise MarketingFileError(f"the segment '{name}': '{key}' names nothing", line)
                names.append((key, values))
        found.append(Segment(name, tuple(names), tuple(numbers), consent))
    return tuple(found)


def _values(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if not isinstance(v, dict | list))
    if isinstance(value, str | int) and not isinstance(value, bool):
        return (str(value),)
    return ()

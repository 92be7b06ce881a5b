"""A message written as its own parse, as Rasa reads it (buttons send these, and test
stories may write them): `/greet`, `/inform{"city": "Paris"}`, `/inform@0.8{"city": ["Paris",
"Lyon"]}`. Each entity spans the `{...}` that gives it, as Rasa's entities do.

A customer may type anything after the slash: a confidence that is not one between 0 and 1,
or entities that are not a JSON object, are left out with a warning (as Rasa warns), never
an error."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

_SHORTCUT = re.compile(
    r"^/(?P<intent>[^{@\[]+?)(?:@(?P<confidence>[^{\[]*))?(?P<entities>[{\[].*)?$", re.S
)


@dataclass(frozen=True)
class Shortcut:
    intent: str
    confidence: float = 1.0
    entities: list[dict[str, Any]] = field(default_factory=list)


def read_shortcut(text: str) -> Shortcut | None:
    """The intent, confidence and entities `text` gives, or None if it is not a shortcut."""
    match = _SHORTCUT.match(text.strip())
    if match is None or not match.group("intent").strip():
        return None
    return Shortcut(
        match.group("intent").strip(),
        _confidence(match.group("confidence"), text),
        _entities(match.group("entities"), text),
    )


def _confidence(given: str | None, text: str) -> float:
    if given is None:
        return 1.0
    try:
        confidence = float(given.strip())
    except ValueError:
        confidence = -1.0
    if not 0.0 <= confidence <= 1.0:
        logger.warning("%r gives the confidence %r, which is not 0 to 1: 1.0 is used", text, given)
        return 1.0
    return confidence


def _entities(given: str | None, text: str) -> list[dict[str, Any]]:
    if given is None:
        return []
    given = given.strip()
    try:
        values = json.loads(given)
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, dict):
        logger.warning("the entities in %r are not a JSON object; they are left out", text)
        return []
    # Where the `{...}` is in the text as given (leading spaces included).
    start = text.index(given)
    end = start + len(given)
    return [
        {"entity": name, "start": start, "end": end, "value": item}
        for name, value in values.items()
        for item in (value if isinstance(value, list) else [value])
    ]

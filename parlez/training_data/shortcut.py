"""A message written as its own parse, as Rasa reads it (buttons send these, and test
stories may write them): `/greet`, `/inform{"city": "Paris"}`, `/inform@0.8{"city": ["Paris",
"Lyon"]}`. Each entity spans the `{...}` that gives it, as Rasa's entities do."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

_SHORTCUT = re.compile(
    r"^/(?P<intent>[^{@]+?)(?:@(?P<confidence>[0-9.]+))?(?P<entities>\{.*\})?\s*$", re.S
)


@dataclass(frozen=True)
class Shortcut:
    intent: str
    confidence: float = 1.0
    entities: list[dict[str, Any]] = field(default_factory=list)


def read_shortcut(text: str) -> Shortcut | None:
    """The intent, confidence and entities `text` gives, or None if it is not a shortcut."""
    match = _SHORTCUT.match(text.strip())
    if match is None:
        return None
    entities: list[dict[str, Any]] = []
    if match.group("entities"):
        # Where the `{...}` is in the text as given (leading spaces included).
        start = text.index(match.group("entities"))
        end = start + len(match.group("entities"))
        try:
            given = json.loads(match.group("entities"))
        except json.JSONDecodeError:
            logger.warning("the entities in %r are not JSON; they are ignored", text)
            given = {}
        if isinstance(given, dict):
            for name, value in given.items():
                for item in value if isinstance(value, list) else [value]:
                    entities.append({"entity": name, "start": start, "end": end, "value": item})
    return Shortcut(
        match.group("intent").strip(), float(match.group("confidence") or 1.0), entities
    )

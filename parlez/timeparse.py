"""Dates and times in free text, for custom actions: "next Friday at four", "demain 14h",
"in zwei Wochen". Part of the API parlez offers actions (docs/python-api.md).

It is Duckling's time dimension, embedded, as `DucklingEntityExtractor` uses it; an action
can read a time from any answer without that extractor being in the pipeline.
"""

from __future__ import annotations

from typing import Any

from parlez.nlu.extractors.duckling import DucklingEntityExtractor
from parlez.nlu.message import Message


def parse_times(
    text: str, timezone: str, reference_ms: int, locale: str = "en_GB"
) -> list[dict[str, Any]]:
    """The dates and times in `text` as Duckling entities, spoken times included ("four in
    the evening"), read in `timezone` relative to `reference_ms`. For actions that need a
    time from free text without a DucklingEntityExtractor in the pipeline."""
    extractor = DucklingEntityExtractor(
        {"dimensions": ["time"], "timezone": timezone, "locale": locale}
    )
    message = Message(text, metadata={"time": reference_ms})
    extractor.process([message])
    return [e for e in message.entities if e["entity"] == "time"]

"""Responses as the domain declares them: a variation chosen for the channel and the slots,
then `{slot}` placeholders filled in."""

from __future__ import annotations

import logging
import random
import string
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

#: the parts of a response that may hold `{slot}` placeholders
FILLED_KEYS = ("text", "image", "custom", "buttons", "attachment", "quick_replies", "elements")


class NaturalLanguageGenerator(ABC):
    """Turns a response name into the message a channel sends."""

    @abstractmethod
    async def generate(
        self,
        response: str,
        tracker: DialogueStateTracker,
        channel: str | None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """The message for `response`, or None when there is no such response."""


class TemplatedGenerator(NaturalLanguageGenerator):
    def __init__(
        self, responses: Mapping[str, list[dict[str, Any]]], seed: int | None = None
    ) -> None:
        self.responses = responses
        self._random = random.Random(seed)

    async def generate(
        self,
        response: str,
        tracker: DialogueStateTracker,
        channel: str | None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        return self.render(response, tracker.slots, channel, **kwargs)

    def render(
        self, response: str, slots: Mapping[str, Any], channel: str | None, **kwargs: Any
    ) -> dict[str, Any] | None:
        variation = self.choose(response, slots, channel)
        if variation is None:
            return None
        values = {**slots, **kwargs}
        message = {k: v for k, v in variation.items() if k not in ("channel", "condition", "id")}
        for key in FILLED_KEYS:
            if key in message:
                message[key] = _fill(message[key], values, response)
        return message

    def choose(
        self, response: str, slots: Mapping[str, Any], channel: str | None
    ) -> dict[str, Any] | None:
        """Rasa's choice: variations for this channel first, conditional ones whose slot
        conditions hold before unconditional ones, then one at random."""
        variations = self.responses.get(response)
        if not variations:
            return None
        for_channel = [v for v in variations if channel and v.get("channel") == channel]
        pool = for_channel or [v for v in variations if not v.get("channel")]
        conditional = [
            v for v in pool if v.get("condition") and _conditions_hold(v["condition"], slots)
        ]
        plain = [v for v in pool if not v.get("condition")]
        candidates = conditional or plain
        if not candidates:
            return None
        return dict(self._random.choice(candidates))


def _conditions_hold(conditions: list[dict[str, Any]], slots: Mapping[str, Any]) -> bool:
    for condition in conditions:
        if condition.get("type", "slot") != "slot":
            return False
        if slots.get(condition.get("name", "")) != condition.get("value"):
            return False
    return True


class _Placeholders(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def _fill(value: Any, values: Mapping[str, Any], response: str) -> Any:
    if isinstance(value, str):
        if "{" not in value:
            return value
        try:
            return string.Formatter().vformat(value, (), _Placeholders(values))
        except (KeyError, IndexError, ValueError) as error:
            named = error.args[0] if isinstance(error, KeyError) and error.args else None
            if isinstance(named, str) and not named.isidentifier():
                # Braces that name no slot at all: a button's `/inform{"city": "Paris"}`.
                return value
            logger.warning(
                "response '%s' names %s, which is neither a slot nor a value the action gave; "
                "the text is sent as written",
                response,
                error,
            )
            return value
    if isinstance(value, list):
        return [_fill(v, values, response) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values, response) for k, v in value.items()}
    return value

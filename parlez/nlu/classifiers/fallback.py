"""FallbackClassifier: `nlu_fallback` when the top intent is unsure or too close to the next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.registry import register_component

NLU_FALLBACK = "nlu_fallback"


@register_component("FallbackClassifier")
class FallbackClassifier(Component):
    defaults = {"threshold": 0.3, "ambiguity_threshold": 0.1}
    needs = ("intent",)
    gives = ("intent",)

    @classmethod
    def intents_given(cls, params: dict[str, Any]) -> frozenset[str]:
        return frozenset({NLU_FALLBACK})

    def _should_fall_back(self, message: Message) -> bool:
        if not message.intent or message.intent.get("name") is None:
            return True
        if float(message.intent.get("confidence", 0.0)) < self.config["threshold"]:
            return True
        ranking = message.intent_ranking
        if len(ranking) >= 2:
            gap = float(ranking[0]["confidence"]) - float(ranking[1]["confidence"])
            return bool(gap < self.config["ambiguity_threshold"])
        return False

    def process(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if self._should_fall_back(message):
                fallback = {"name": NLU_FALLBACK, "confidence": float(self.config["threshold"])}
                message.intent = dict(fallback)
                message.intent_ranking = [fallback, *message.intent_ranking]

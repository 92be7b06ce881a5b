"""KeywordIntentClassifier: an intent when one of its examples appears as whole words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from parlez.diagnostics import warn
from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


@register_component("KeywordIntentClassifier")
class KeywordIntentClassifier(Component):
    defaults = {"case_sensitive": True}
    gives = ("intent",)

    def train(self, data: TrainingData, messages: Sequence[Message]) -> KeywordIntentClassifier:
        keywords: dict[str, str] = {}
        ambiguous: set[str] = set()
        for example in data.intent_examples:
            assert example.intent is not None
            known = keywords.get(example.text)
            if known is not None and known != example.intent:
                ambiguous.add(example.text)
            keywords.setdefault(example.text, example.intent)
        for keyword in sorted(ambiguous):
            warn(
                "P192", f"the keyword '{keyword}' is an example of several intents and is not used"
            )
            del keywords[keyword]
        # Longer keywords first, so "good morning" wins over "good".
        self.keywords_ = dict(sorted(keywords.items(), key=lambda item: -len(item[0])))
        return self

    def process(self, messages: Sequence[Message]) -> None:
        flags = 0 if self.config["case_sensitive"] else re.IGNORECASE
        compiled = [
            (re.compile(rf"(?<!\w){re.escape(k)}(?!\w)", flags), intent)
            for k, intent in self.keywords_.items()
        ]
        for message in messages:
            intent = next((name for regex, name in compiled if regex.search(message.text)), None)
            message.intent = {"name": intent, "confidence": 1.0 if intent else 0.0}
            message.intent_ranking = [dict(message.intent)] if intent else []

    def state(self) -> dict[str, Any]:
        return {"keywords": list(self.keywords_.items())}

    def set_state(self, state: dict[str, Any]) -> None:
        self.keywords_ = dict((k, v) for k, v in state["keywords"])

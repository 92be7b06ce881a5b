"""SentimentAnalyzer: how positive or negative a message is, and an intent for the angry ones.

The score is VADER's compound score (-1 to 1) from the `vaderSentiment` package, whose
lexicon ships with it: rules over a human-rated English lexicon, with negation ("not good"),
intensifiers ("very"), capitals and punctuation ("TERRIBLE!!!"). It adds
`sentiment: {label, score}` to the parse. With `negative_intent`, a message at or below
`negative_threshold` gets that intent, the way FallbackClassifier gives `nlu_fallback`: the
classifier's guess stays in `intent_ranking`, and a rule can hand the conversation to a
person. A message the classifier gave one of `keep_intents` keeps it: an impatient booking
is still a booking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parlez.diagnostics import warn
from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


@register_component("SentimentAnalyzer")
class SentimentAnalyzer(Component):
    defaults = {
        "negative_threshold": -0.6,
        "positive_threshold": 0.5,
        "negative_intent": None,
        # intents a negative message keeps ("my hair desperately needs a cut" is a booking)
        "keep_intents": [],
    }
    gives = ("sentiment",)

    _analyzer: Any = None

    @classmethod
    def intents_given(cls, params: dict[str, Any]) -> frozenset[str]:
        intent = params.get("negative_intent", cls.defaults["negative_intent"])
        return frozenset({str(intent)}) if intent else frozenset()

    def _vader(self) -> Any:
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            type(self)._analyzer = SentimentIntensityAnalyzer()
        return self._analyzer

    def train(self, data: TrainingData, messages: Sequence[Message]) -> SentimentAnalyzer:
        if self.language != "en":
            warn(
                "P178",
                f"SentimentAnalyzer reads English only; for '{self.language}' it marks every "
                "message neutral",
            )
        return self

    def score(self, text: str) -> float:
        if self.language != "en" or not text.strip():
            return 0.0
        return float(self._vader().polarity_scores(text)["compound"])

    def label(self, score: float) -> str:
        if score <= float(self.config["negative_threshold"]):
            return "negative"
        if score >= float(self.config["positive_threshold"]):
            return "positive"
        return "neutral"

    def process(self, messages: Sequence[Message]) -> None:
        intent = self.config["negative_intent"]
        keep = set(self.config["keep_intents"] or ())
        for message in messages:
            score = self.score(message.text)
            label = self.label(score)
            message.sentiment = {"label": label, "score": round(score, 4)}
            if (message.intent or {}).get("name") in keep:
                continue
            if intent and label == "negative":
                angry = {"name": str(intent), "confidence": round(min(1.0, -score), 4)}
                message.intent = dict(angry)
                message.intent_ranking = [angry, *message.intent_ranking]

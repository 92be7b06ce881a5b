"""MultilingualIntentClassifier: the intent of a message in another language than the
pipeline's, from the multilingual encoder's sentence vectors.

A project's examples are mostly in its own language, and the classifier before this one
(DIETClassifier over words, character n-grams and an English encoder) learns that language:
a French or German message shares few of its features. Google's multilingual Universal
Sentence Encoder (the `languages` extra) puts "je voudrais réserver une coupe" next to "I'd
like to book a haircut", so a logistic regression over its vectors, learnt from every
example in every language, carries what the English examples teach to the other languages.

At training it learns from every intent example. A message lingua is sure is in one of
`languages` other than the pipeline's own (parlez/language_id.py: a word or two must be
clearer than a sentence) gets this model's intent and ranking instead of the classifier's
before it, and its language in `message.data["language"]`; any other message keeps what it
had. KnowledgeBaseRouter, which compares with the English encoder, leaves such a message
alone. Put it after the intent classifier and before FallbackClassifier, so that the
fallback judges its confidence too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parlez.diagnostics import warn
from parlez.language_id import LANGUAGE_KEY, detector, readable, written_in
from parlez.nlu.classifiers.ranking import set_intent
from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.probabilities import softmax
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


@register_component("MultilingualIntentClassifier")
class MultilingualIntentClassifier(Component):
    defaults = {
        # the languages besides the pipeline's that customers write in; the pipeline's own
        # stays with the classifier before this one
        "languages": [],
        # the logistic regression's inverse regularisation: weakly regularised, so that its
        # confidences are on the scale FallbackClassifier's threshold is set for (at 10,
        # as accurate, right answers came out under 0.55 and fell back; at 100, "je dois
        # décaler mon rendez-vous de jeudi" did, at 0.51 against 0.23)
        "C": 1000.0,
    }
    needs = ("intent",)
    gives = ("intent",)

    #: (intents, 512) weights, the intercepts and the intents; None untrained or unable
    weights_: np.ndarray | None = None
    intercepts_: np.ndarray | None = None
    intents_: list[str] | None = None

    @property
    def _languages(self) -> tuple[str, ...]:
        return readable(self.config["languages"], self.language)

    def train(
        self, data: TrainingData, messages: Sequence[Message]
    ) -> MultilingualIntentClassifier:
        from sklearn.linear_model import LogisticRegression

        from parlez.knowledge.multilingual import multilingual_embedder

        others = [code for code in self._languages if code != self.language]
        if not others:
            return self
        embed = multilingual_embedder()
        if embed is None or detector(self._languages) is None:
            warn(
                "P177",
                "MultilingualIntentClassifier needs the `languages` extra (pip install "
                f"'parlez[languages]'): messages in {', '.join(others)} keep the intent of "
                "the classifier before it",
            )
            return self
        examples = [(m.text, m.intent) for m in data.examples if m.intent and m.text.strip()]
        intents = sorted({intent for _, intent in examples})
        if len(intents) < 2:
            return self
        texts = [text for text, _ in examples]
        vectors = np.vstack([embed(texts[at : at + 64]) for at in range(0, len(texts), 64)])
        labels = np.asarray([intents.index(intent) for _, intent in examples])
        model = LogisticRegression(C=float(self.config["C"]), max_iter=3000)
        model.fit(vectors, labels)
        self.intents_ = [intents[index] for index in model.classes_]
        self.weights_ = model.coef_.astype(np.float32)
        self.intercepts_ = model.intercept_.astype(np.float32)
        return self

    def state(self) -> dict[str, Any]:
        if self.weights_ is None or self.intercepts_ is None or self.intents_ is None:
            return {}
        return {
            "intents": self.intents_,
            "weights": self.weights_.tolist(),
            "intercepts": self.intercepts_.tolist(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if "weights" in state:
            self.intents_ = [str(intent) for intent in state["intents"]]
            self.weights_ = np.asarray(state["weights"], np.float32)
            self.intercepts_ = np.asarray(state["intercepts"], np.float32)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Each intent's probability (a row per sentence vector), in `intents_`' order."""
        assert self.weights_ is not None and self.intercepts_ is not None
        logits = vectors @ self.weights_.T + self.intercepts_
        if logits.shape[1] == 1:  # scikit-learn keeps one row of weights for two intents
            logits = np.hstack([np.zeros_like(logits), logits])
        return softmax(logits, axis=1)

    def process(self, messages: Sequence[Message]) -> None:
        from parlez.knowledge.multilingual import multilingual_embedder

        if self.weights_ is None or self.intents_ is None:
            return
        among = self._languages
        foreign = []
        for message in messages:
            language = written_in(message.text, among)
            if language not in (None, self.language):
                foreign.append(message)
                # for the components after it that read only the pipeline's language
                message.data[LANGUAGE_KEY] = language
        embed = multilingual_embedder()
        if not foreign or embed is None:
            return
        # four decimals: the encoder's last float bits differ from one call to another
        chances = np.round(self.probabilities(embed([m.text for m in foreign])), 4)
        for message, row in zip(foreign, chances, strict=True):
            set_intent(message, self.intents_, row)

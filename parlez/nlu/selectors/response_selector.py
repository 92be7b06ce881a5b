"""ResponseSelector: which answer of a retrieval intent (`faq/ask_hours`) a message asks for.

A linear model over the message's sentence features picks the response key among the
examples of the retrieval intents; the answer's text comes from the `utter_faq/ask_hours`
response. The output is Rasa's `response_selector` block of the parse result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parlez.nlu.classifiers.linear import LinearModel
from parlez.nlu.component import Component
from parlez.nlu.features import sentence_matrix
from parlez.nlu.message import Message
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

DEFAULT_SELECTOR = "default"


@register_component("ResponseSelector")
class ResponseSelector(Component):
    defaults = {
        "retrieval_intent": None,
        "C": 10.0,
        "max_iter": 1000,
        "ranking_length": 10,
        "random_seed": None,
    }
    accepted = {
        "epochs",
        "constrain_similarities",
        "model_confidence",
        "use_text_as_label",
        "transformer_size",
        "number_of_transformer_layers",
    }
    needs = ("tokens", "features")

    @property
    def selector_key(self) -> str:
        return self.config["retrieval_intent"] or DEFAULT_SELECTOR

    def train(self, data: TrainingData, messages: Sequence[Message]) -> ResponseSelector:
        wanted = self.config["retrieval_intent"]
        chosen = [
            m
            for m in messages
            if m.example is not None
            and m.example.intent_response_key
            and (wanted is None or m.example.intent == wanted)
        ]
        keys = [m.example.intent_response_key for m in chosen if m.example is not None]
        self.retrieval_intents_ = sorted({k.split("/")[0] for k in keys if k})
        self.responses_ = {
            key: data.responses.get(f"utter_{key}", []) for key in sorted({k for k in keys if k})
        }
        keys_found = sorted(self.responses_)
        if len(keys_found) < 2:
            # One answer (or none) needs no model: it is always the one.
            self.model_ = LinearModel(keys_found, np.zeros((0, 0)), np.zeros(0))
            return self
        # Imported to train only: importing scikit-learn took a second of every server start.
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            random_state=self.config["random_seed"],
        )
        self.model_ = LinearModel.from_estimator(model.fit(sentence_matrix(chosen), keys))
        return self

    def _probabilities(self, messages: Sequence[Message]) -> np.ndarray:
        if len(self.model_.labels) < 2:
            return np.ones((len(messages), len(self.model_.labels)))
        return self.model_.probabilities(sentence_matrix(messages))

    def process(self, messages: Sequence[Message]) -> None:
        keys = self.model_.labels
        if not messages or not keys:
            return
        probabilities = self._probabilities(messages)
        for message, row in zip(messages, probabilities, strict=True):
            order = np.argsort(-row, kind="stable")[: self.config["ranking_length"] or None]
            best = keys[int(order[0])]
            selection = {
                "response": {
                    "responses": self.responses_.get(best, []),
                    "confidence": float(row[order[0]]),
                    "intent_response_key": best,
                    "utter_action": f"utter_{best}",
                },
                "ranking": [
                    {"confidence": float(row[i]), "intent_response_key": keys[int(i)]}
                    for i in order
                ],
            }
            known = message.response_selector.get("all_retrieval_intents", [])
            message.response_selector = {
                **message.response_selector,
                "all_retrieval_intents": sorted(set(known) | set(self.retrieval_intents_)),
                self.selector_key: selection,
            }

    def persist(self, path: Path) -> None:
        self.model_.save(path)
        state = {"responses": self.responses_, "retrieval_intents": self.retrieval_intents_}
        (path / "responses.json").write_text(
            json.dumps(state, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> ResponseSelector:
        component = cls(config)
        component.model_ = LinearModel.load(path)
        state = json.loads((path / "responses.json").read_text(encoding="utf-8"))
        component.responses_ = state["responses"]
        component.retrieval_intents_ = state["retrieval_intents"]
        return component

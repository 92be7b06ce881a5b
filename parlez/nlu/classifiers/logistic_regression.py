"""LogisticRegressionClassifier: a linear intent model over all sentence features."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from parlez.exceptions import ParlezError
from parlez.nlu.classifiers.ranking import RANKING_LENGTH, set_intent
from parlez.nlu.component import Component
from parlez.nlu.features import sentence_matrix
from parlez.nlu.message import Message
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


class NotEnoughIntentsError(ParlezError):
    code = "P191"


@register_component("LogisticRegressionClassifier")
class LogisticRegressionClassifier(Component):
    defaults = {
        "max_iter": 100,
        "solver": "lbfgs",
        "tol": 1e-4,
        "C": 1.0,
        "class_weight": None,
        "random_state": None,
        "ranking_length": RANKING_LENGTH,
    }
    needs = ("tokens", "features")
    gives = ("intent",)

    def train(
        self, data: TrainingData, messages: Sequence[Message]
    ) -> LogisticRegressionClassifier:
        labelled = [m for m in messages if m.example is not None and m.example.intent is not None]
        labels = [str(m.example.intent) for m in labelled if m.example is not None]
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise NotEnoughIntentsError(
                f"intent classification needs at least two intents, the training data has {len(classes)}",
                hint="add examples of a second intent, or remove the intent classifier from the pipeline",
            )
        model = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            solver=self.config["solver"],
            tol=self.config["tol"],
            class_weight=self.config["class_weight"],
            random_state=self.config["random_state"],
        )
        model.fit(sentence_matrix(labelled), labels)
        self.classes_ = [str(c) for c in model.classes_]
        self.coef_ = np.asarray(model.coef_, dtype=np.float64)
        self.intercept_ = np.asarray(model.intercept_, dtype=np.float64)
        return self

    def _probabilities(self, features: Any) -> np.ndarray:
        width = self.coef_.shape[1]
        if features.shape[1] != width:  # a featurizer was retrained without this classifier
            raise ParlezError(
                f"{self.name} expects {width} features, the pipeline gives {features.shape[1]}",
                hint="retrain the whole NLU pipeline",
            )
        scores = np.asarray(features @ self.coef_.T) + self.intercept_
        if len(self.classes_) == 2:
            positive = expit(scores[:, 0])
            return np.stack([1.0 - positive, positive], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def process(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        probabilities = self._probabilities(sentence_matrix(messages))
        for message, row in zip(messages, probabilities, strict=True):
            if message.tokens:
                set_intent(message, self.classes_, row, self.config["ranking_length"])
            else:  # nothing to classify: no intent, so a fallback can take over
                message.intent, message.intent_ranking = {"name": None, "confidence": 0.0}, []

    def persist(self, path: Path) -> None:
        np.savez(path / "weights.npz", coef=self.coef_, intercept=self.intercept_)
        (path / "classes.json").write_text(
            json.dumps(self.classes_, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> LogisticRegressionClassifier:
        component = cls(config)
        with np.load(path / "weights.npz") as weights:
            component.coef_ = weights["coef"]
            component.intercept_ = weights["intercept"]
        component.classes_ = json.loads((path / "classes.json").read_text(encoding="utf-8"))
        return component

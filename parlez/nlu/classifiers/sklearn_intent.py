"""SklearnIntentClassifier: a linear support vector machine, C chosen by cross-validation.

Rasa's version is a scikit-learn SVC with Platt-scaled probabilities. parlez trains a linear
SVM (one-vs-rest) with the same grid search over `C`, keeps only its weights (no pickle), and
turns the decision scores into confidences with a softmax.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.svm import LinearSVC

from parlez.diagnostics import warn
from parlez.nlu.classifiers.logistic_regression import NotEnoughIntentsError
from parlez.nlu.classifiers.ranking import RANKING_LENGTH, set_intent
from parlez.nlu.component import Component
from parlez.nlu.features import sentence_matrix
from parlez.nlu.message import Message
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


@register_component("SklearnIntentClassifier")
class SklearnIntentClassifier(Component):
    defaults = {
        "C": [1, 2, 5, 10, 20, 100],
        "kernels": ["linear"],
        "max_cross_validation_folds": 5,
        "scoring_function": "f1_weighted",
        "ranking_length": RANKING_LENGTH,
    }
    accepted = {"gamma", "num_threads"}
    needs = ("tokens", "features")
    gives = ("intent",)

    def train(self, data: TrainingData, messages: Sequence[Message]) -> SklearnIntentClassifier:
        labelled = [m for m in messages if m.example is not None and m.example.intent]
        labels = [str(m.example.intent) for m in labelled if m.example is not None]
        if len(set(labels)) < 2:
            raise NotEnoughIntentsError(
                "SklearnIntentClassifier needs at least two intents",
                hint="add examples of a second intent",
            )
        if any(k != "linear" for k in self.config["kernels"]):
            warn("P198", "SklearnIntentClassifier trains a linear SVM; other kernels are not used")
        features = sentence_matrix(labelled)
        folds = min(int(self.config["max_cross_validation_folds"]), min(Counter(labels).values()))
        model: Any = LinearSVC(dual="auto", max_iter=5000)
        if folds >= 2:
            search = GridSearchCV(
                model,
                {"C": list(self.config["C"])},
                cv=folds,
                scoring=self.config["scoring_function"],
            )
            model = search.fit(features, labels).best_estimator_
        else:
            model.fit(features, labels)
        self.classes_ = [str(c) for c in model.classes_]
        coef, intercept = (
            np.asarray(model.coef_, dtype=np.float64),
            np.asarray(model.intercept_, dtype=np.float64),
        )
        if len(self.classes_) == 2:  # a binary SVM has one score: the second class's
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        self.coef_, self.intercept_ = coef, intercept
        return self

    def process(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        scores = np.asarray(sentence_matrix(messages) @ self.coef_.T) + self.intercept_
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        for message, row in zip(messages, probabilities, strict=True):
            if message.tokens:
                set_intent(message, self.classes_, row, self.config["ranking_length"])
            else:
                message.intent, message.intent_ranking = {"name": None, "confidence": 0.0}, []

    def persist(self, path: Path) -> None:
        np.savez(path / "weights.npz", coef=self.coef_, intercept=self.intercept_)
        (path / "classes.json").write_text(
            json.dumps(self.classes_, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> SklearnIntentClassifier:
        component = cls(config)
        with np.load(path / "weights.npz") as weights:
            component.coef_, component.intercept_ = weights["coef"], weights["intercept"]
        component.classes_ = json.loads((path / "classes.json").read_text(encoding="utf-8"))
        return component

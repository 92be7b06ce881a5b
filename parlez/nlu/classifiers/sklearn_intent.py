"""SklearnIntentClassifier: a linear support vector machine, C chosen by cross-validation.

Rasa's version is a scikit-learn SVC with Platt-scaled probabilities. parlez trains a linear
SVM (one-vs-rest) with the same grid search over `C`, keeps only its weights (no pickle), and
turns the decision scores into confidences (softmax; logistic for two intents).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sklearn.model_selection import GridSearchCV
from sklearn.svm import LinearSVC

from parlez.diagnostics import warn
from parlez.nlu.classifiers.linear import LinearModel
from parlez.nlu.classifiers.logistic_regression import intent_examples
from parlez.nlu.classifiers.ranking import RANKING_LENGTH, set_intents
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
        labelled, labels = intent_examples(messages, self.name)
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
        self.model_ = LinearModel.from_estimator(model)
        return self

    def process(self, messages: Sequence[Message]) -> None:
        if messages:
            set_intents(
                messages,
                self.model_.labels,
                self.model_.probabilities(sentence_matrix(messages)),
                self.config["ranking_length"],
            )

    def persist(self, path: Path) -> None:
        self.model_.save(path)

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> SklearnIntentClassifier:
        component = cls(config)
        component.model_ = LinearModel.load(path)
        return component

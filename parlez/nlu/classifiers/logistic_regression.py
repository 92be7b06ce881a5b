"""LogisticRegressionClassifier: a linear intent model over all sentence features."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from parlez.exceptions import ParlezError
from parlez.nlu.classifiers.linear import LinearModel
from parlez.nlu.classifiers.ranking import RANKING_LENGTH, set_intents
from parlez.nlu.component import Component
from parlez.nlu.features import sentence_matrix
from parlez.nlu.message import Message
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


class NotEnoughIntentsError(ParlezError):
    code = "P191"


def intent_examples(messages: Sequence[Message], name: str) -> tuple[list[Message], list[str]]:
    """The training messages that have an intent, and their intents; two intents at least."""
    labelled = [m for m in messages if m.example is not None and m.example.intent is not None]
    labels = [str(m.example.intent) for m in labelled if m.example is not None]
    count = len(set(labels))
    if count < 2:
        raise NotEnoughIntentsError(
            f"{name} needs at least two intents, the training data has {count}",
            hint="add examples of a second intent, or remove the intent classifier from the pipeline",
        )
    return labelled, labels


class LinearIntentClassifier(Component, ABC):
    """An intent classifier whose model is a LinearModel over the sentence features."""

    needs = ("tokens", "features")
    gives = ("intent",)

    @abstractmethod
    def fit(self, features: Any, labels: list[str]) -> Any:
        """A fitted scikit-learn linear estimator (with coef_, intercept_, classes_)."""

    def train(self, data: TrainingData, messages: Sequence[Message]) -> LinearIntentClassifier:
        labelled, labels = intent_examples(messages, self.name)
        self.model_ = LinearModel.from_estimator(self.fit(sentence_matrix(labelled), labels))
        return self

    def process(self, messages: Sequence[Message]) -> None:
        if messages:
            probabilities = self.model_.probabilities(sentence_matrix(messages))
            set_intents(messages, self.model_.labels, probabilities, self.config["ranking_length"])

    def persist(self, path: Path) -> None:
        self.model_.save(path)

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> LinearIntentClassifier:
        component = cls(config)
        component.model_ = LinearModel.load(path)
        return component


@register_component("LogisticRegressionClassifier")
class LogisticRegressionClassifier(LinearIntentClassifier):
    defaults = {
        "max_iter": 100,
        "solver": "lbfgs",
        "tol": 1e-4,
        "C": 1.0,
        "class_weight": None,
        "random_state": None,
        "ranking_length": RANKING_LENGTH,
    }

    def fit(self, features: Any, labels: list[str]) -> Any:
        # Imported to train only: importing scikit-learn took a second of every server start.
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            solver=self.config["solver"],
            tol=self.config["tol"],
            class_weight=self.config["class_weight"],
            random_state=self.config["random_state"],
        )
        return model.fit(features, labels)

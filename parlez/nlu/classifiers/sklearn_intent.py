"""SklearnIntentClassifier: a linear support vector machine, C chosen by cross-validation.

Rasa's version is a scikit-learn SVC with Platt-scaled probabilities. parlez trains a linear
SVM (one-vs-rest) with the same grid search over `C`, keeps only its weights (no pickle), and
turns the decision scores into confidences (softmax; logistic for two intents).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from parlez.diagnostics import warn
from parlez.nlu.classifiers.logistic_regression import LinearIntentClassifier
from parlez.nlu.classifiers.ranking import RANKING_LENGTH
from parlez.registry import register_component


@register_component("SklearnIntentClassifier")
class SklearnIntentClassifier(LinearIntentClassifier):
    defaults = {
        "C": [1, 2, 5, 10, 20, 100],
        "kernels": ["linear"],
        "max_cross_validation_folds": 5,
        "scoring_function": "f1_weighted",
        "ranking_length": RANKING_LENGTH,
    }
    accepted = {"gamma", "num_threads"}

    def fit(self, features: Any, labels: list[str]) -> Any:
        # Imported to train only: importing scikit-learn took a second of every server start.
        from sklearn.model_selection import GridSearchCV
        from sklearn.svm import LinearSVC

        if any(k != "linear" for k in self.config["kernels"]):
            warn("P198", "SklearnIntentClassifier trains a linear SVM; other kernels are not used")
        folds = min(int(self.config["max_cross_validation_folds"]), min(Counter(labels).values()))
        model = LinearSVC(dual="auto", max_iter=5000)
        if folds < 2:
            return model.fit(features, labels)
        search = GridSearchCV(
            model, {"C": list(self.config["C"])}, cv=folds, scoring=self.config["scoring_function"]
        )
        return search.fit(features, labels).best_estimator_

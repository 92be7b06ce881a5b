"""Linear models' learned weights: confidences from them, and their files (safetensors + labels)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parlez.exceptions import ParlezError
from parlez.io.arrays import load_arrays, save_arrays
from parlez.probabilities import logistic, softmax


@dataclass
class LinearModel:
    """scikit-learn's `coef_`/`intercept_`/`classes_`, without the estimator object."""

    labels: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    #: coef.T, contiguous: a sparse row times the transposed view made SciPy copy all of
    #: `coef` at every parse (120 µs for 7 labels x 20,000 features, the product 3 µs)
    by_feature: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.by_feature = np.ascontiguousarray(self.coef.T)

    @classmethod
    def from_estimator(cls, estimator: Any) -> LinearModel:
        return cls(
            [str(c) for c in estimator.classes_],
            np.asarray(estimator.coef_, dtype=np.float64),
            np.asarray(estimator.intercept_, dtype=np.float64),
        )

    def probabilities(self, features: Any) -> np.ndarray:
        """One row per message: a logistic for two labels, a softmax over more."""
        width = self.coef.shape[1]
        if features.shape[1] != width:  # a featurizer was retrained without this model
            raise ParlezError(
                f"the model expects {width} features, the pipeline gives {features.shape[1]}",
                hint="retrain the whole NLU pipeline",
            )
        scores = np.asarray(features @ self.by_feature) + self.intercept
        if self.coef.shape[0] == 1:
            positive = logistic(scores[:, 0])
            return np.stack([1.0 - positive, positive], axis=1)
        return softmax(scores, axis=1)

    def save(self, path: Path) -> None:
        save_arrays(path / "weights.safetensors", {"coef": self.coef, "intercept": self.intercept})
        (path / "labels.json").write_text(
            json.dumps(self.labels, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        weights = load_arrays(path / "weights.safetensors")
        coef, intercept = weights["coef"], weights["intercept"]
        return cls(json.loads((path / "labels.json").read_text(encoding="utf-8")), coef, intercept)

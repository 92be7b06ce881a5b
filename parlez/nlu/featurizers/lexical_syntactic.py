"""LexicalSyntacticFeaturizer: the shape of each token and its neighbours, for entity tagging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse

from parlez.exceptions import SchemaError, did_you_mean
from parlez.nlu.component import Component
from parlez.nlu.message import Features, Message, Token
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

_FEATURES: dict[str, Callable[[Token, int, int], Any]] = {
    "low": lambda t, i, n: t.text.islower(),
    "title": lambda t, i, n: t.text.istitle(),
    "upper": lambda t, i, n: t.text.isupper(),
    "digit": lambda t, i, n: t.text.isdigit(),
    "prefix5": lambda t, i, n: t.text[:5],
    "prefix2": lambda t, i, n: t.text[:2],
    "suffix5": lambda t, i, n: t.text[-5:],
    "suffix3": lambda t, i, n: t.text[-3:],
    "suffix2": lambda t, i, n: t.text[-2:],
    "suffix1": lambda t, i, n: t.text[-1:],
    "BOS": lambda t, i, n: i == 0,
    "EOS": lambda t, i, n: i == n - 1,
    "pos": lambda t, i, n: t.data.get("pos"),
    "pos2": lambda t, i, n: (t.data.get("pos") or "")[:2] or None,
}


@register_component("LexicalSyntacticFeaturizer")
class LexicalSyntacticFeaturizer(Component):
    """One-hot features of each token's shape, over a window of (before, token, after)."""

    defaults = {
        "features": [
            ["low", "title", "upper"],
            ["BOS", "EOS", "low", "upper", "title", "digit"],
            ["low", "title", "upper"],
        ]
    }
    accepted = {"alias"}
    process_training_data = True
    needs = ("tokens",)
    gives = ("features",)

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        for window in self.config["features"]:
            for name in window:
                if name not in _FEATURES:
                    raise SchemaError(
                        f"LexicalSyntacticFeaturizer has no feature '{name}'",
                        hint=did_you_mean(name, _FEATURES) or f"use {', '.join(_FEATURES)}",
                    )

    def _token_values(self, tokens: Sequence[Token]) -> list[list[str]]:
        windows = self.config["features"]
        half = len(windows) // 2
        rows = []
        for index in range(len(tokens)):
            values = []
            for offset, names in enumerate(windows, start=-half):
                position = index + offset
                if 0 <= position < len(tokens):
                    for name in names:
                        value = _FEATURES[name](tokens[position], position, len(tokens))
                        if value is not None:
                            values.append(f"{offset}:{name}:{value}")
            rows.append(values)
        return rows

    def train(self, data: TrainingData, messages: Sequence[Message]) -> LexicalSyntacticFeaturizer:
        seen = {v for m in messages for row in self._token_values(m.tokens) for v in row}
        self.vocabulary_ = {value: index for index, value in enumerate(sorted(seen))}
        return self

    def process(self, messages: Sequence[Message]) -> None:
        width = len(self.vocabulary_)
        for message in messages:
            rows, cols = [], []
            for row, values in enumerate(self._token_values(message.tokens)):
                for value in values:
                    if value in self.vocabulary_:
                        rows.append(row)
                        cols.append(self.vocabulary_[value])
            data = np.ones(len(rows), dtype=np.float32)
            sequence = scipy.sparse.csr_matrix(
                (data, (rows, cols)), shape=(len(message.tokens), width)
            )
            message.features[self.key] = Features(sequence, None)

    def state(self) -> dict[str, Any]:
        return {"vocabulary": sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.vocabulary_ = {value: index for index, value in enumerate(state["vocabulary"])}

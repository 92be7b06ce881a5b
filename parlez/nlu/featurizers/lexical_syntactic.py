"""LexicalSyntacticFeaturizer: the shape of each token and its neighbours, for entity tagging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parlez.nlu.component import Component
from parlez.nlu.message import Features, Message, Token
from parlez.nlu.sparse import from_coordinates
from parlez.nlu.token_features import SHAPE, check_windows, window_values
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


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
        check_windows(self.name, self.config["features"], list(SHAPE))

    def _token_values(self, tokens: Sequence[Token]) -> list[list[str]]:
        return window_values(tokens, self.config["features"])

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
            sequence = from_coordinates(rows, cols, data, (len(message.tokens), width))
            message.features[self.key] = Features(sequence, None)

    def state(self) -> dict[str, Any]:
        return {"vocabulary": sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.vocabulary_ = {value: index for index, value in enumerate(state["vocabulary"])}

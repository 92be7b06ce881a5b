"""RegexFeaturizer: which regexes and lookup tables match each token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parlez.nlu.component import Component
from parlez.nlu.message import Features, Message
from parlez.nlu.patterns import Pattern, compile_pattern, training_patterns
from parlez.nlu.sparse import from_dense
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


@register_component("RegexFeaturizer")
class RegexFeaturizer(Component):
    defaults = {
        "case_sensitive": True,
        "use_lookup_tables": True,
        "use_regexes": True,
        "use_word_boundaries": True,
    }
    accepted = {"alias", "number_additional_patterns"}
    process_training_data = True
    needs = ("tokens",)
    gives = ("features",)

    def train(self, data: TrainingData, messages: Sequence[Message]) -> RegexFeaturizer:
        self.patterns_ = training_patterns(
            data,
            use_regexes=self.config["use_regexes"],
            use_lookup_tables=self.config["use_lookup_tables"],
            word_boundaries=self.config["use_word_boundaries"],
        )
        return self

    def process(self, messages: Sequence[Message]) -> None:
        compiled = [
            compile_pattern(p.pattern, self.config["case_sensitive"]) for p in self.patterns_
        ]
        width = len(compiled)
        for message in messages:
            sequence = np.zeros((len(message.tokens), width), dtype=np.float32)
            for column, regex in enumerate(compiled):
                for match in regex.finditer(message.text):
                    if match.start() == match.end():
                        continue
                    for row, token in enumerate(message.tokens):
                        if token.start < match.end() and match.start() < token.end:
                            sequence[row, column] = 1.0
            sentence = (
                sequence.max(axis=0, keepdims=True)
                if len(message.tokens)
                else np.zeros((1, width), dtype=np.float32)
            )
            message.features[self.key] = Features(from_dense(sequence), from_dense(sentence))

    def state(self) -> dict[str, Any]:
        return {"patterns": [[p.name, p.pattern] for p in self.patterns_]}

    def set_state(self, state: dict[str, Any]) -> None:
        self.patterns_ = [Pattern(name, pattern) for name, pattern in state["patterns"]]

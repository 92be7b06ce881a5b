"""The message an NLU pipeline works on: text, tokens, features and predictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse

from parlez.training_data.example import Example


@dataclass
class Token:
    text: str
    start: int
    end: int
    #: extra per-token data a component adds (e.g. `pos`, `lemma`)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Features:
    """One featurizer's output: a row per token, and one row for the whole message."""

    sequence: scipy.sparse.csr_matrix | np.ndarray
    sentence: scipy.sparse.csr_matrix | np.ndarray | None = None

    @property
    def is_sparse(self) -> bool:
        return bool(scipy.sparse.issparse(self.sequence))


@dataclass
class Message:
    """A text going through the pipeline. `example` holds the gold labels while training."""

    text: str
    example: Example | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    features: dict[str, Features] = field(default_factory=dict)
    intent: dict[str, Any] | None = None
    intent_ranking: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    response_selector: dict[str, Any] = field(default_factory=dict)
    #: `{label, score}` from SentimentAnalyzer
    sentiment: dict[str, Any] | None = None
    #: what one component hands to the next that is not a feature (e.g. a spaCy doc)
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_example(cls, example: Example) -> Message:
        return cls(example.text, example=example, metadata=dict(example.metadata or {}))

    def sentence_features(self, *, sparse: bool) -> list[scipy.sparse.csr_matrix | np.ndarray]:
        return [
            f.sentence
            for f in self.features.values()
            if f.sentence is not None and f.is_sparse == sparse
        ]

    def sequence_features(self, *, sparse: bool) -> list[scipy.sparse.csr_matrix | np.ndarray]:
        return [f.sequence for f in self.features.values() if f.is_sparse == sparse]

    def parse_result(self) -> dict[str, Any]:
        """The message as Rasa's `/model/parse` returns it."""
        result: dict[str, Any] = {
            "text": self.text,
            "intent": self.intent or {"name": None, "confidence": 0.0},
            "entities": self.entities,
            "text_tokens": [[t.start, t.end] for t in self.tokens],
        }
        if self.intent_ranking:
            result["intent_ranking"] = self.intent_ranking
        if self.response_selector:
            result["response_selector"] = self.response_selector
        if self.sentiment is not None:
            result["sentiment"] = self.sentiment
        return result

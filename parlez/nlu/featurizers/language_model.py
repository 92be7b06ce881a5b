"""Dense features from the sentence encoder (parlez.nlu.encoder): `LanguageModelFeaturizer`,
Rasa's name, whatever `model_name` says; `model_weights` may name a folder of the project
holding any Hugging Face encoder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from parlez.nlu.component import Component
from parlez.nlu.encoder import SentenceEncoder, encoder_at, resolve_weights
from parlez.nlu.message import Features, Message
from parlez.registry import register_component


def dense_features(
    encoder: SentenceEncoder, messages: Sequence[Message], key: str, batch_size: int
) -> None:
    # Batches of similar length pad less.
    order = sorted(range(len(messages)), key=lambda i: len(messages[i].text))
    for start in range(0, len(order), batch_size):
        chosen = [messages[i] for i in order[start : start + batch_size]]
        for message, (tokens, sentence) in zip(
            chosen,
            encoder.encode([m.text for m in chosen], [m.tokens for m in chosen]),
            strict=True,
        ):
            message.features[key] = Features(tokens, sentence)


@register_component("LanguageModelFeaturizer")
class LanguageModelFeaturizer(Component):
    defaults = {"model_name": "bert", "model_weights": None, "batch_size": 64}
    accepted = {"cache_dir", "alias"}
    needs = ("tokens",)
    gives = ("features",)
    process_training_data = True
    _weights: Path | None = None

    def _encoder(self) -> SentenceEncoder:
        # The folder is found once: every parse imported the packaged encoder's module and
        # read its files' metadata again to find the same one.
        if self._weights is None:
            self._weights = resolve_weights(self.config["model_weights"])
        return encoder_at(self._weights)

    def train(self, data: Any, messages: Sequence[Message]) -> LanguageModelFeaturizer:
        self._encoder()  # fail early, before other components spend time training
        return self

    def process(self, messages: Sequence[Message]) -> None:
        dense_features(self._encoder(), messages, self.key, int(self.config["batch_size"]))

"""Turning per-intent probabilities into Rasa's `intent` and `intent_ranking`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from parlez.nlu.message import Message

#: Rasa shows the 10 most likely intents.
RANKING_LENGTH = 10


def set_intent(
    message: Message,
    labels: Sequence[str],
    probabilities: np.ndarray,
    ranking_length: int = RANKING_LENGTH,
) -> None:
    order = np.argsort(-probabilities, kind="stable")
    if ranking_length and ranking_length > 0:
        order = order[:ranking_length]
    ranking = [{"name": labels[i], "confidence": float(probabilities[i])} for i in order]
    message.intent = dict(ranking[0]) if ranking else {"name": None, "confidence": 0.0}
    message.intent_ranking = ranking


def set_intents(
    messages: Sequence[Message],
    labels: Sequence[str],
    probabilities: np.ndarray,
    ranking_length: int = RANKING_LENGTH,
) -> None:
    """Each message's intent from its row; a message without words gets none, so that a
    FallbackClassifier can answer it."""
    for message, row in zip(messages, probabilities, strict=True):
        if message.tokens:
            set_intent(message, labels, row, ranking_length)
        else:
            message.intent, message.intent_ranking = {"name": None, "confidence": 0.0}, []

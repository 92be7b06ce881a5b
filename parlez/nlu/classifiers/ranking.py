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

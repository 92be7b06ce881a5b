"""A trained TED network served by ONNX Runtime, without torch: the states' features are
embedded here in NumPy (a sparse bag sum, as torch's EmbeddingBag does), the transformer and
the action scores come from the exported graph (parlez.core.policies.ted_network)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse


@dataclass
class Dialogues:
    """A batch of dialogues' states as bags of features, in the order of their states."""

    indices: np.ndarray  # every state's feature columns, concatenated
    weights: np.ndarray
    offsets: np.ndarray  # where each state's bag starts in `indices`
    lengths: np.ndarray  # states per dialogue (B,)
    dense: np.ndarray  # each state's dense text vector, zeros without one (states, D)


class TEDRuntime:
    def __init__(self, session: Any, weights: Mapping[str, np.ndarray], history: int) -> None:
        """`weights`: the network's state (its safetensors file, as NumPy arrays)."""
        self.session = session
        self.history = history
        self.table = np.asarray(weights["embed.weight"], dtype=np.float32)
        text_in = weights.get("text_in.weight")  # (H, D) as torch's Linear keeps it
        self.text_in = np.ascontiguousarray(text_in.T) if text_in is not None else None

    def scores(self, dialogues: Dialogues) -> np.ndarray:
        """Each dialogue's action scores (B, actions), before the softmax."""
        bags = scipy.sparse.csr_matrix(
            (
                dialogues.weights,
                dialogues.indices,
                np.append(dialogues.offsets, len(dialogues.indices)),
            ),
            shape=(len(dialogues.offsets), self.table.shape[0]),
        )
        states = np.asarray(bags @ self.table, dtype=np.float32)
        if self.text_in is not None:
            states += dialogues.dense @ self.text_in
        batch = len(dialogues.lengths)
        hidden = np.zeros((batch, self.history, self.table.shape[1]), dtype=np.float32)
        padding = np.ones((batch, self.history), dtype=bool)
        start = 0
        for row, length in enumerate(dialogues.lengths.tolist()):
            hidden[row, self.history - length :] = states[start : start + length]
            padding[row, self.history - length :] = False
            start += length
        (scores,) = self.session.run(None, {"hidden": hidden, "padding": padding})
        return np.asarray(scores)

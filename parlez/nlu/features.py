"""Stacking the features earlier components put on messages into one matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse

from parlez.nlu.message import Message


def sentence_matrix(messages: Sequence[Message]) -> scipy.sparse.csr_matrix:
    """One row per message: every sentence feature (sparse and dense) side by side."""
    rows = []
    for message in messages:
        parts = [
            f.sentence
            if scipy.sparse.issparse(f.sentence)
            else scipy.sparse.csr_matrix(np.atleast_2d(f.sentence))
            for f in message.features.values()
            if f.sentence is not None
        ]
        rows.append(
            scipy.sparse.hstack(parts, format="csr") if parts else scipy.sparse.csr_matrix((1, 0))
        )
    return scipy.sparse.vstack(rows, format="csr") if rows else scipy.sparse.csr_matrix((0, 0))

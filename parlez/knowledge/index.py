"""Searching the knowledge base: BM25 over words, dense embeddings over meaning, fused.

Each passage is searched through its rows: every phrasing of an FAQ question and the answer
itself, or a page section's heading and text. A passage scores as its best row: a question
matches the phrasings when it is asked the way the business wrote it, and the answer when it
uses the answer's words ("do you take cyclescheme vouchers" for an entry "Do you take part in
the Cycle to Work scheme?" whose answer names the providers). BM25 (`bm25s`, an English
stemmer and stop words) finds exact terms such as product names; the packaged sentence
encoder finds paraphrases ("cross out text" for "strikethrough"). The hybrid adds the dense
cosine similarity to the BM25 score scaled by the query's best BM25 score, weighted by
`dense_weight`. `confidence` is the dense cosine of the chosen passage: an absolute measure,
which the answer action compares with its threshold before it answers at all.

BM25 leaves out the stop words of every language the index's encoder reads. In the
multilingual index, with English stop words only, "was muss ich für einen Herrenschnitt
zahlen" found the payment entry ("Wie kann ich bezahlen?") on "ich" (bench/multilingual.py
--kb: German hit@1 78.6 -> 85.7, as good as the dense search alone); the English index
keeps English's alone, or "hat" and "war" (German stop words) would no longer find a hat
shop's entries.

Embeddings are the slow part (about 3 ms a row): an index keeps them by row text, so a
rebuild after one document changed embeds only that document's rows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError

from parlez.exceptions import ParlezError
from parlez.io.arrays import load_arrays, save_arrays
from parlez.knowledge.calibration import Calibration, calibrate
from parlez.knowledge.documents import Passage, kb_files, read_kb
from parlez.knowledge.multilingual import MULTILINGUAL_INDEX_FOLDER, multilingual_embedder

logger = logging.getLogger(__name__)

INDEX_VERSION = 2
DEFAULT_DENSE_WEIGHT = 0.95
METHODS = ("bm25", "dense", "hybrid")
#: the languages of an encoder that does not say which it reads (`Embed.languages`)
ENGLISH = ("en",)
#: bm25s's stop-word lists, by language code
_STOPWORD_LISTS = {
    "en": "STOPWORDS_EN",
    "fr": "STOPWORDS_FRENCH",
    "de": "STOPWORDS_GERMAN",
    "es": "STOPWORDS_SPANISH",
}


class KnowledgeIndexError(ParlezError):
    code = "P501"


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    confidence: float  # cosine similarity of the best row, in [-1, 1]
    bm25: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.passage.id,
            "title": self.passage.title,
            "text": self.passage.text,
            "source": self.passage.source,
            "url": self.passage.url,
            "score": round(self.score, 4),
            "confidence": round(self.confidence, 4),
        }


def row_texts(passage: Passage, languages: tuple[str, ...] = ENGLISH) -> list[str]:
    """The rows `passage` is searched through by an encoder that reads `languages`: its
    questions, its answer, and its answers written in other languages that the encoder
    reads (the multilingual index's: "gibt es Stufen am Eingang" finds the German answer's
    "der Eingang ist stufenlos" when no German question of the entry is near)."""
    if passage.kind != "faq":
        return [f"{passage.title}\n{passage.text}"]
    rows = [*passage.questions, passage.text] if passage.text else list(passage.questions)
    translated = [text for language, text in passage.answers.items() if language in languages]
    return rows + [text for text in translated if text not in rows]


def question_rows(passage: Passage) -> int:
    """How many of the passage's rows (they come first) are ways of asking it."""
    return len(passage.questions) if passage.kind == "faq" else 0


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


#: what turns texts into unit vectors: the packaged encoder (`Embedder`), or another
#: (parlez/knowledge/multilingual.py); an encoder of several languages says which in its
#: `languages` attribute, whose stop words BM25 then leaves out (English otherwise)
Embed = Callable[[Sequence[str]], np.ndarray]


def languages_of(embed: Embed) -> tuple[str, ...]:
    """The languages `embed` reads, by code."""
    return tuple(getattr(embed, "languages", ENGLISH))


@functools.cache
def stopwords(languages: tuple[str, ...]) -> frozenset[str]:
    """The stop words of `languages` together (those bm25s has a list for)."""
    import bm25s.stopwords

    return frozenset(
        word
        for language in languages
        if language in _STOPWORD_LISTS
        for word in getattr(bm25s.stopwords, _STOPWORD_LISTS[language])
    )


class Embedder:
    """The packaged sentence encoder, loaded on first use (it takes a second)."""

    languages = ENGLISH

    def __init__(self) -> None:
        self._encoder: Any = None

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            from parlez.nlu.encoder import encoder_at, packaged_model_path

            self._encoder = encoder_at(packaged_model_path())
        vectors: np.ndarray = self._encoder.embed(list(texts))
        return vectors


@dataclass
class _Content:
    """What one version of the knowledge base is searched through. A search reads one
    `_Content` from start to end, so a knowledge base replaced under it (the console saved
    an entry) never mixes one version's rows with another's vectors."""

    passages: list[Passage]
    rows: list[str]
    row_passage: np.ndarray
    asking: np.ndarray
    vectors: np.ndarray
    bm25: Any
    #: the words BM25 leaves out of the rows and of a query
    stopwords: frozenset[str]
    calibration: Calibration | None = None

    @classmethod
    def of(
        cls,
        passages: list[Passage],
        vectors: np.ndarray,
        calibration: Calibration | None,
        languages: tuple[str, ...],
    ) -> _Content:
        rows: list[str] = []
        row_passage: list[int] = []
        asking: list[bool] = []
        for number, passage in enumerate(passages):
            questions = question_rows(passage)
            for position, text in enumerate(row_texts(passage, languages)):
                rows.append(text)
                row_passage.append(number)
                asking.append(position < questions)
        if len(vectors) != len(rows):
            raise KnowledgeIndexError("the index's vectors do not match its passages")
        left_out = stopwords(languages)
        return cls(
            passages,
            rows,
            np.asarray(row_passage, dtype=np.int64),
            np.asarray(asking, dtype=bool),
            vectors.astype(np.float32),
            _bm25_of(rows, left_out),
            left_out,
            calibration,
        )

    def calibrated(self) -> Calibration:
        if self.calibration is None:
            self.calibration = calibrate(self.vectors, self.row_passage, self.asking)
        return self.calibration


def _bm25_of(rows: Sequence[str], stopwords: frozenset[str]) -> Any:
    import bm25s

    # bm25s sets its logger to DEBUG when imported: every index build would be logged.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    if not rows:
        return None
    retriever = bm25s.BM25()
    retriever.index(_tokens(rows, stopwords), show_progress=False)
    return retriever


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokens(texts: Sequence[str], stopwords: frozenset[str]) -> Any:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords=stopwords, stemmer=_stemmer(), show_progress=False)


def _bm25_scores(content: _Content, query: str) -> np.ndarray:
    import bm25s

    if content.bm25 is None:
        return np.zeros(0)
    tokens = bm25s.tokenize(
        [query],
        stopwords=content.stopwords,
        stemmer=_stemmer(),
        show_progress=False,
        return_ids=False,
    )[0]
    if not tokens:
        return np.zeros(len(content.rows), dtype=np.float32)
    scores: np.ndarray = content.bm25.get_scores(tokens)
    return scores.astype(np.float32)


def _stamp(kb: Path) -> tuple[tuple[str, int, int], ...]:
    """The knowledge base's files as their names, sizes and times of change."""
    found = []
    for path in kb_files(kb):
        try:
            status = path.stat()
        except OSError:  # removed while we looked
            continue
        found.append((str(path), status.st_size, status.st_mtime_ns))
    return tuple(found)


class KnowledgeIndex:
    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        embed: Embed | None = None,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
        calibration: Calibration | None = None,
    ) -> None:
        self.embed = embed or Embedder()
        self._content = _Content.of(passages, vectors, calibration, languages_of(self.embed))
        self.dense_weight = dense_weight
        #: the documents this index follows (see `follow`); None: it never changes
        self._source: Path | None = None
        self._saved_to: Path | None = None
        self._seen: tuple[tuple[str, int, int], ...] = ()
        self._following = threading.RLock()

    @property
    def passages(self) -> list[Passage]:
        return self._current().passages

    @property
    def rows(self) -> list[str]:
        return self._content.rows

    @property
    def row_passage(self) -> list[int]:
        return [int(p) for p in self._content.row_passage]

    @property
    def vectors(self) -> np.ndarray:
        return self._content.vectors

    @property
    def calibration(self) -> Calibration:
        """The bar and margin this knowledge base's answers need (learnt from its own
        questions, parlez/knowledge/calibration.py)."""
        return self._current().calibrated()

    # ---- building ------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        passages: list[Passage],
        embed: Embed | None = None,
        previous: KnowledgeIndex | None = None,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
    ) -> KnowledgeIndex:
        """Index `passages`, reusing the embeddings `previous` already has."""
        embed = embed or (previous.embed if previous else Embedder())
        known: dict[str, np.ndarray] = {}
        if previous is not None:
            known = {_key(t): v for t, v in zip(previous.rows, previous.vectors, strict=True)}
        texts = [t for p in passages for t in row_texts(p, languages_of(embed))]
        missing = sorted({t for t in texts if _key(t) not in known})
        if missing:
            for text, vector in zip(missing, embed(missing), strict=True):
                known[_key(text)] = vector
        vectors = (
            np.stack([known[_key(t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)
        )
        index = cls(passages, vectors, embed, dense_weight)
        index.embedded = len(missing)
        return index

    embedded = 0  # rows embedded by the last build (the rest were reused)

    # ---- searching -----------------------------------------------------------------------------

    def row_scores(self, query: str, method: str = "hybrid") -> tuple[np.ndarray, np.ndarray]:
        """(fused score, dense cosine) per row."""
        fused, dense, _ = self._row_scores(self._current(), query, method)
        return fused, dense

    def _row_scores(
        self, content: _Content, query: str, method: str, vector: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fused score, dense cosine, BM25 score: zeros for the dense method) per row;
        `vector`: the query's, when the caller has embedded it with this index's encoder."""
        if method not in METHODS:
            raise KnowledgeIndexError(f"unknown search method '{method}'", hint=", ".join(METHODS))
        dense = content.vectors @ (self.embed([query])[0] if vector is None else vector)
        if method == "dense":
            return dense, dense, np.zeros(len(content.rows))
        bm25 = _bm25_scores(content, query)
        if method == "bm25":
            return bm25, dense, bm25
        best = float(bm25.max()) if len(bm25) else 0.0
        scaled = bm25 / best if best > 0 else bm25
        fused = self.dense_weight * dense + (1 - self.dense_weight) * scaled
        return fused, dense, bm25

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25's score of each row for `query`."""
        return _bm25_scores(self._current(), query)

    def search(
        self, query: str, k: int = 3, method: str = "hybrid", vector: np.ndarray | None = None
    ) -> list[Hit]:
        """The `k` best passages for `query`; `vector` is its embedding by this index's
        encoder when the caller already has it (KnowledgeBaseRouter: one pass, not two)."""
        content = self._current()
        if not content.rows or not query.strip():
            return []
        fused, dense, bm25 = self._row_scores(content, query, method, vector)
        best: dict[int, int] = {}
        for row in np.argsort(-fused):
            passage = int(content.row_passage[int(row)])
            if passage not in best:
                best[passage] = int(row)
                if len(best) == k:
                    break
        return [
            Hit(
                content.passages[p],
                float(fused[row]),
                float(dense[row]),
                float(bm25[row]) if len(bm25) else 0.0,
            )
            for p, row in best.items()
        ]

    # ---- following the documents ---------------------------------------------------------------

    def follow(self, kb: Path, save_to: Path | None = None) -> KnowledgeIndex:
        """Keep this index up to date with the documents in `kb`: every search first checks
        whether a file there changed (a stat of each, no reading) and, if one did, re-indexes
        them, embedding only new rows, and saves the result to `save_to`. A knowledge base
        edited in the console, or by hand, answers from its next question on, in every
        process that searches it, without a restart."""
        self._source, self._saved_to = kb, save_to
        self._seen = _stamp(kb)
        return self

    def _current(self) -> _Content:
        if self._source is not None and _stamp(self._source) != self._seen:
            with self._following:  # one thread re-indexes; the others wait for it
                seen = _stamp(self._source)
                if seen != self._seen:
                    self._reindex(self._source, seen)
        return self._content

    def _reindex(self, kb: Path, seen: tuple[tuple[str, int, int], ...]) -> None:
        try:
            passages = read_kb(kb)
        except ParlezError as error:
            # A file saved half-way, or broken by hand: the last good version answers.
            logger.error("P502 the knowledge base was not re-indexed: %s", error)
            self._seen = seen
            return
        fresh = KnowledgeIndex.build(passages, self.embed, previous=self)
        self._content = fresh._content  # one assignment: a search sees one version or the other
        self._seen = seen
        logger.info(
            "knowledge base re-indexed: %d passages, %d rows embedded; "
            "it answers from a score of %.2f",
            len(passages),
            fresh.embedded,
            fresh.calibration.min_confidence,
        )
        if self._saved_to is not None:
            try:
                self.save(self._saved_to)
                (self._saved_to / "fingerprint").write_text(kb_fingerprint(kb))
            except OSError as error:
                logger.warning("the re-indexed knowledge base was not saved: %s", error)

    # ---- storing -------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        content = self._content
        folder.mkdir(parents=True, exist_ok=True)
        save_arrays(folder / "vectors.safetensors", {"vectors": content.vectors})
        (folder / "passages.json").write_text(
            json.dumps(
                {
                    "version": INDEX_VERSION,
                    "dense_weight": self.dense_weight,
                    "calibration": content.calibrated().to_dict(),
                    "passages": [p.to_dict() for p in content.passages],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path, embed: Embed | None = None) -> KnowledgeIndex:
        try:
            raw = json.loads((folder / "passages.json").read_text(encoding="utf-8"))
            vectors = load_arrays(folder / "vectors.safetensors")["vectors"]
        except (OSError, ValueError, SafetensorError) as error:
            raise KnowledgeIndexError(
                f"the knowledge-base index in '{folder}' cannot be read: {error}",
                hint="rebuild it with `parlez train` (or `parlez kb index`)",
            ) from None
        if raw.get("version") != INDEX_VERSION:
            raise KnowledgeIndexError(
                "the knowledge-base index was built by another parlez version",
                hint="rebuild it with `parlez train`",
            )
        passages = [Passage.from_dict(p) for p in raw["passages"]]
        calibration = Calibration.from_dict(raw["calibration"]) if "calibration" in raw else None
        weight = float(raw.get("dense_weight", DEFAULT_DENSE_WEIGHT))
        return cls(passages, vectors, embed, weight, calibration)


def index_folder(project: Path) -> Path:
    return project / "models" / INDEX_FOLDER


def kb_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in kb_files(folder):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def open_index(
    kb: Path, index_dir: Path, embed: Embed | None = None, save: bool = True
) -> KnowledgeIndex:
    """The index of `kb`, up to date: loaded when the documents have not changed since it was
    built, else rebuilt (embedding only what changed) and saved."""
    stamp = index_dir / "fingerprint"
    wanted = kb_fingerprint(kb)
    previous: KnowledgeIndex | None = None
    if (index_dir / "passages.json").is_file():
        try:
            previous = KnowledgeIndex.load(index_dir, embed)
        except KnowledgeIndexError as error:
            logger.warning("%s; rebuilding it", error.message)
        if previous is not None and stamp.is_file() and stamp.read_text() == wanted:
            return previous
    index = KnowledgeIndex.build(read_kb(kb), embed, previous)
    if save:
        index.save(index_dir)
        stamp.write_text(wanted)
        logger.info(
            "knowledge base indexed: %d passages, %d rows embedded (%d reused); "
            "it answers from a score of %.2f",
            len(index.passages),
            index.embedded,
            len(index.rows) - index.embedded,
            index.calibration.min_confidence,
        )
    return index


#: where a project keeps its knowledge base, and where its index sits beside the models
KB_FOLDER = Path("data") / "kb"
INDEX_FOLDER = "kb-index"


def index_knowledge(project: Path, models: Path) -> KnowledgeIndex | None:
    """Bring the index in `models/kb-index` up to date with the project's `data/kb/`, and
    the multilingual one beside it where its encoder is installed; None when the project
    has no knowledge base. Training calls it with the other parts."""
    kb = project / KB_FOLDER
    if not read_kb(kb):
        return None
    multilingual = multilingual_embedder()
    if multilingual is not None:
        open_index(kb, models / MULTILINGUAL_INDEX_FOLDER, multilingual)
    return open_index(kb, models / INDEX_FOLDER)


_shared: dict[tuple[Path, Path], KnowledgeIndex] = {}
_sharing = threading.Lock()


def shared_index(kb: Path, index_dir: Path, embed: Embed | None = None) -> KnowledgeIndex:
    """`open_index(kb, index_dir)` once per process: the answer action and the NLU's
    KnowledgeBaseRouter search the same index (and the same encoder's vectors), which
    follows the documents as they change (`KnowledgeIndex.follow`)."""
    key = (kb.resolve(), index_dir.resolve())
    with _sharing:
        if key not in _shared:
            _shared[key] = open_index(kb, index_dir, embed).follow(kb, index_dir)
        return _shared[key]

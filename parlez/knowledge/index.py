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

Embeddings are the slow part (about 3 ms a row): an index keeps them by row text, so a
rebuild after one document changed embeds only that document's rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parlez.exceptions import ParlezError
from parlez.knowledge.calibration import Calibration, calibrate
from parlez.knowledge.documents import Passage, kb_files, read_kb

logger = logging.getLogger(__name__)

INDEX_VERSION = 2
DEFAULT_DENSE_WEIGHT = 0.95
METHODS = ("bm25", "dense", "hybrid")


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


def row_texts(passage: Passage) -> list[str]:
    if passage.kind == "faq":
        return [*passage.questions, passage.text] if passage.text else passage.questions
    return [f"{passage.title}\n{passage.text}"]


def question_rows(passage: Passage) -> int:
    """How many of the passage's rows (they come first) are ways of asking it."""
    return len(passage.questions) if passage.kind == "faq" else 0


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class Embedder:
    """The packaged sentence encoder, loaded on first use (it takes a second)."""

    def __init__(self) -> None:
        self._encoder: Any = None

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            from parlez.nlu.encoder import encoder_at, packaged_model_path

            self._encoder = encoder_at(packaged_model_path())
        vectors: np.ndarray = self._encoder.embed(list(texts))
        return vectors


class KnowledgeIndex:
    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        embed: Embedder | None = None,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
        calibration: Calibration | None = None,
    ) -> None:
        self.passages = passages
        self.rows: list[str] = []
        self.row_passage: list[int] = []
        asking: list[bool] = []
        for number, passage in enumerate(passages):
            questions = question_rows(passage)
            for position, text in enumerate(row_texts(passage)):
                self.rows.append(text)
                self.row_passage.append(number)
                asking.append(position < questions)
        if len(vectors) != len(self.rows):
            raise KnowledgeIndexError("the index's vectors do not match its passages")
        self.vectors = vectors.astype(np.float32)
        self.embed = embed or Embedder()
        self.dense_weight = dense_weight
        self._row_passage = np.asarray(self.row_passage, dtype=np.int64)
        self._asking = np.asarray(asking, dtype=bool)
        self._bm25 = self._build_bm25()
        self._calibration = calibration

    @property
    def calibration(self) -> Calibration:
        """The bar and margin this knowledge base's answers need (learnt from its own
        questions, parlez/knowledge/calibration.py)."""
        if self._calibration is None:
            self._calibration = calibrate(self.vectors, self._row_passage, self._asking)
        return self._calibration

    # ---- building ------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        passages: list[Passage],
        embed: Embedder | None = None,
        previous: KnowledgeIndex | None = None,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
    ) -> KnowledgeIndex:
        """Index `passages`, reusing the embeddings `previous` already has."""
        embed = embed or (previous.embed if previous else Embedder())
        known: dict[str, np.ndarray] = {}
        if previous is not None:
            known = {_key(t): v for t, v in zip(previous.rows, previous.vectors, strict=True)}
        texts = [t for p in passages for t in row_texts(p)]
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

    def _build_bm25(self) -> Any:
        import bm25s

        # bm25s sets its logger to DEBUG when imported: every index build would be logged.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        if not self.rows:
            return None
        retriever = bm25s.BM25()
        retriever.index(self._tokens(self.rows), show_progress=False)
        return retriever

    @staticmethod
    def _stemmer() -> Any:
        import Stemmer

        return Stemmer.Stemmer("english")

    def _tokens(self, texts: Sequence[str]) -> Any:
        import bm25s

        return bm25s.tokenize(
            list(texts), stopwords="en", stemmer=self._stemmer(), show_progress=False
        )

    # ---- searching -----------------------------------------------------------------------------

    def row_scores(self, query: str, method: str = "hybrid") -> tuple[np.ndarray, np.ndarray]:
        """(fused score, dense cosine) per row."""
        if method not in METHODS:
            raise KnowledgeIndexError(f"unknown search method '{method}'", hint=", ".join(METHODS))
        dense = (
            self.vectors @ self.embed([query])[0] if method != "bm25" else np.zeros(len(self.rows))
        )
        if method == "dense":
            return dense, dense
        bm25 = self._bm25_scores(query)
        if method == "bm25":
            return bm25, self.vectors @ self.embed([query])[0]
        best = float(bm25.max()) if len(bm25) else 0.0
        scaled = bm25 / best if best > 0 else bm25
        fused = self.dense_weight * dense + (1 - self.dense_weight) * scaled
        return fused, dense

    def _bm25_scores(self, query: str) -> np.ndarray:
        import bm25s

        if self._bm25 is None:
            return np.zeros(0)
        tokens = bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer(), show_progress=False, return_ids=False
        )[0]
        if not tokens:
            return np.zeros(len(self.rows), dtype=np.float32)
        scores: np.ndarray = self._bm25.get_scores(tokens)
        return scores.astype(np.float32)

    def search(self, query: str, k: int = 3, method: str = "hybrid") -> list[Hit]:
        if not self.rows or not query.strip():
            return []
        fused, dense = self.row_scores(query, method)
        bm25 = self._bm25_scores(query) if method != "dense" else np.zeros(len(self.rows))
        best: dict[int, int] = {}
        for row in np.argsort(-fused):
            passage = self.row_passage[int(row)]
            if passage not in best:
                best[passage] = int(row)
                if len(best) == k:
                    break
        return [
            Hit(
                self.passages[p],
                float(fused[row]),
                float(dense[row]),
                float(bm25[row]) if len(bm25) else 0.0,
            )
            for p, row in best.items()
        ]

    # ---- storing -------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "vectors.npy", self.vectors)
        (folder / "passages.json").write_text(
            json.dumps(
                {
                    "version": INDEX_VERSION,
                    "dense_weight": self.dense_weight,
                    "calibration": self.calibration.to_dict(),
                    "passages": [p.to_dict() for p in self.passages],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path, embed: Embedder | None = None) -> KnowledgeIndex:
        try:
            raw = json.loads((folder / "passages.json").read_text(encoding="utf-8"))
            vectors = np.load(folder / "vectors.npy")
        except (OSError, ValueError) as error:
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
    kb: Path, index_dir: Path, embed: Embedder | None = None, save: bool = True
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
    """Bring the index in `models/kb-index` up to date with the project's `data/kb/`;
    None when the project has no knowledge base. Training calls it with the other parts."""
    kb = project / KB_FOLDER
    if not read_kb(kb):
        return None
    return open_index(kb, models / INDEX_FOLDER)


_shared: dict[tuple[Path, Path], KnowledgeIndex] = {}


def shared_index(kb: Path, index_dir: Path) -> KnowledgeIndex:
    """`open_index(kb, index_dir)` once per process: the answer action and the NLU's
    KnowledgeBaseRouter search the same index (and the same encoder's vectors)."""
    key = (kb.resolve(), index_dir.resolve())
    if key not in _shared:
        _shared[key] = open_index(kb, index_dir)
    return _shared[key]

"""The business's knowledge base: documents in `data/kb/`, searched by meaning and by words.

`documents` reads Markdown pages, FAQ files (YAML, CSV, JSON, JSONL) into passages;
`index` searches them (BM25 and dense embeddings from the packaged encoder, fused) and is
built at `parlez train` time, updated incrementally when a document changes; `multilingual`
gives a second index of the same passages for questions in other languages.

This package is part of the API parlez offers custom actions (docs/python-api.md): the
assistant's answer action opens the project's index with `project_index` and answers with a
`KnowledgeAnswerer`.
"""

import functools
import logging
from pathlib import Path

from parlez.knowledge.answer import Answer, KnowledgeAnswerer
from parlez.knowledge.documents import KnowledgeFileError, Passage, kb_files, read_kb
from parlez.knowledge.index import (
    INDEX_FOLDER,
    KB_FOLDER,
    Hit,
    KnowledgeIndex,
    index_knowledge,
    shared_index,
)
from parlez.knowledge.multilingual import MULTILINGUAL_INDEX_FOLDER, multilingual_embedder


def project_index(project: Path) -> KnowledgeIndex:
    """The index of the project's `data/kb/`, shared by everything in this process that
    searches it (the NLU's router and the answer action)."""
    return shared_index(project / KB_FOLDER, project / "models" / INDEX_FOLDER)


def project_multilingual_index(project: Path) -> KnowledgeIndex | None:
    """The same passages under the multilingual encoder, for questions in other languages
    than the knowledge base's; None where that encoder is not installed."""
    embed = multilingual_embedder()
    if embed is None:
        return None
    return shared_index(project / KB_FOLDER, project / "models" / MULTILINGUAL_INDEX_FOLDER, embed)


logger = logging.getLogger(__name__)


def entries_by_action(project: Path) -> dict[str, Passage]:
    """The FAQ entries of the project's `data/kb/` that name the action answering them
    (`action:`), by that action: what an answer given by the action cites. Read again when
    a file changes; a file that cannot be read is logged and left out."""
    folder = project / KB_FOLDER
    return _entries_by_action(folder, tuple((p, p.stat().st_mtime) for p in kb_files(folder)))


@functools.lru_cache(maxsize=4)
def _entries_by_action(folder: Path, files: tuple[tuple[Path, float], ...]) -> dict[str, Passage]:
    try:
        passages = read_kb(folder)
    except KnowledgeFileError as error:
        logger.error("the knowledge base's entries cannot be read: %s", error)
        return {}
    return {p.action: p for p in passages if p.action}


__all__ = [
    "INDEX_FOLDER",
    "KB_FOLDER",
    "Answer",
    "Hit",
    "KnowledgeAnswerer",
    "KnowledgeIndex",
    "Passage",
    "entries_by_action",
    "index_knowledge",
    "project_index",
    "project_multilingual_index",
    "shared_index",
]

"""The business's knowledge base: documents in `data/kb/`, searched by meaning and by words.

`documents` reads Markdown pages, FAQ files (YAML, CSV, JSON, JSONL) into passages;
`index` searches them (BM25 and dense embeddings from the packaged encoder, fused) and is
built at `parlez train` time, updated incrementally when a document changes.

This package is part of the API parlez offers custom actions (docs/python-api.md): the
assistant's answer action opens the project's index with `project_index` and answers with a
`KnowledgeAnswerer`.
"""

from pathlib import Path

from parlez.knowledge.answer import Answer, KnowledgeAnswerer
from parlez.knowledge.index import (
    INDEX_FOLDER,
    KB_FOLDER,
    Hit,
    KnowledgeIndex,
    index_knowledge,
    shared_index,
)


def project_index(project: Path) -> KnowledgeIndex:
    """The index of the project's `data/kb/`, shared by everything in this process that
    searches it (the NLU's router and the answer action)."""
    return shared_index(project / KB_FOLDER, project / "models" / INDEX_FOLDER)


__all__ = [
    "INDEX_FOLDER",
    "KB_FOLDER",
    "Answer",
    "Hit",
    "KnowledgeAnswerer",
    "KnowledgeIndex",
    "index_knowledge",
    "project_index",
    "shared_index",
]

"""The business's knowledge base: documents in `data/kb/`, searched by meaning and by words.

`documents` reads Markdown pages, FAQ files (YAML, CSV, JSON, JSONL) into passages;
`index` searches them (BM25 and dense embeddings from the packaged encoder, fused) and is
built at `parlez train` time, updated incrementally when a document changes.
"""

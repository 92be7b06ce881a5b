"""`parlez kb search | import | export | index`: the knowledge base in `data/kb/`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from parlez.cli.commands import help_of
from parlez.exceptions import relative
from parlez.knowledge.documents import KnowledgeFileError, export_faq, read_kb
from parlez.knowledge.faq_import import DEFAULT_FAQ, import_faq
from parlez.knowledge.index import (
    INDEX_FOLDER,
    KB_FOLDER,
    METHODS,
    KnowledgeIndex,
    index_knowledge,
    open_index,
)


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The knowledge-base folder and its index folder."""
    project = Path(args.project)
    models = Path(args.out) if args.out else project / "models"
    return project / KB_FOLDER, models / INDEX_FOLDER


def describe_index(index: KnowledgeIndex) -> str:
    return (
        f"Knowledge base: {len(index.passages)} passages indexed "
        f"({index.embedded} rows embedded, {len(index.rows) - index.embedded} reused)."
    )


def run_search(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    kb, index_dir = _paths(args)
    index = open_index(kb, index_dir)
    hits = index.search(args.query, k=args.k, method=args.method)
    if not hits:
        console.print("No passage found (is data/kb/ empty?).")
        return 1
    table = Table(title=f"'{args.query}'")
    for column in ("#", "confidence", "passage", "source"):
        table.add_column(column)
    for rank, hit in enumerate(hits, start=1):
        text = hit.passage.text if len(hit.passage.text) < 160 else hit.passage.text[:157] + "..."
        table.add_row(
            str(rank),
            f"{hit.confidence:.2f}",
            f"[bold]{hit.passage.title}[/]\n{text}",
            f"{hit.passage.source}#{hit.passage.id}",
        )
    console.print(table)
    return 0


def run_import(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    source = Path(args.file)
    if not source.is_file():
        raise KnowledgeFileError(f"there is no file '{args.file}' to import")
    done = import_faq(
        Path(args.project),
        source,
        Path(args.to) if args.to else None,
        replace=args.replace,
        keep_sample=args.keep_sample,
    )
    how = (
        f"its {done.replaced} entries replaced"
        if done.replaced is not None
        else f"{done.added} new, {done.updated} updated"
    )
    console.print(
        f"Imported {done.incoming} entries into '{relative(done.target)}': {how}. "
        "`parlez train` (or `parlez kb index`) re-indexes."
    )
    if done.samples:
        console.print(
            "The template's sample content was replaced by yours: "
            + ", ".join(f"'{relative(s)}'" for s in done.samples)
            + " (keep it with --keep-sample)."
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    kb, _ = _paths(args)
    count = export_faq(read_kb(kb), Path(args.file))
    console.print(f"Exported {count} FAQ entries to '{args.file}'.")
    return 0


def run_index(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    project = Path(args.project)
    models = Path(args.out) if args.out else project / "models"
    index = index_knowledge(project, models)
    if index is None:
        console.print("The knowledge base (data/kb/) is empty: nothing to index.")
    else:
        console.print(describe_index(index))
    return 0


def register(commands: Any) -> None:
    kb = commands.add_parser("kb", help=help_of("kb"))
    sub = kb.add_subparsers(dest="kb_what", metavar="WHAT")

    def common(parser: Any) -> None:
        parser.add_argument("--project", default=".", help="project folder (default: here)")
        parser.add_argument("--out", default=None, help="model folder holding kb-index/")

    search = sub.add_parser("search", help="the passages that best answer a question")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=3, help="how many passages (default 3)")
    search.add_argument("--method", choices=METHODS, default="hybrid")
    common(search)
    search.set_defaults(handler=run_search)
    imp = sub.add_parser("import", help="add FAQ entries from a CSV, JSON, JSONL or YAML file")
    imp.add_argument("file")
    imp.add_argument("--to", default=None, help=f"the FAQ file to add to (default {DEFAULT_FAQ})")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="replace the FAQ file's entries instead of adding to them",
    )
    imp.add_argument(
        "--keep-sample",
        action="store_true",
        help="keep the template's sample content (replaced by the first import otherwise)",
    )
    common(imp)
    imp.set_defaults(handler=run_import)
    exp = sub.add_parser("export", help="write the FAQ entries to a CSV, JSON, JSONL or YAML file")
    exp.add_argument("file")
    common(exp)
    exp.set_defaults(handler=run_export)
    index = sub.add_parser("index", help="build or update the search index")
    common(index)
    index.set_defaults(handler=run_index)

    def usage(args: argparse.Namespace) -> int:
        kb.print_help()
        return 2

    kb.set_defaults(handler=usage)

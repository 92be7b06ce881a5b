"""FAQ entries brought in from a CSV, JSON, JSONL or YAML file, as `parlez kb import` and the
console's knowledge-base page do it: into one FAQ file of `data/kb/`, an entry with an
imported entry's id replaced by it, and the assistant template's sample content dropped the
first time a business brings its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from parlez.knowledge.documents import export_faq, read_faq_file, sample_files
from parlez.knowledge.faq_file import EDITABLE_SUFFIXES, FaqEntry, FaqFile
from parlez.knowledge.index import KB_FOLDER

#: where imported entries go unless told otherwise
DEFAULT_FAQ = Path("data") / "kb" / "faq.yml"


@dataclass(frozen=True)
class Imported:
    target: Path
    incoming: int
    added: int
    #: the FAQ file's entries were replaced, not added to
    replaced: int | None = None
    #: the template's sample files that the import replaced
    samples: list[Path] = field(default_factory=list)

    @property
    def updated(self) -> int:
        return self.incoming - self.added


def import_faq(
    project: Path,
    source: Path,
    to: Path | None = None,
    replace: bool = False,
    keep_sample: bool = False,
) -> Imported:
    """Read `source` (its suffix says its format) and write its entries into `to` (relative
    to `project`; default `data/kb/faq.yml`). A broken file is a `KnowledgeFileError`
    naming it, before anything is written."""
    incoming = read_faq_file(source)
    target = project / (to or DEFAULT_FAQ)
    # The template's sample content goes when a business brings its own: a hair studio's
    # opening hours would answer a bicycle shop's customers.
    samples = [] if keep_sample else sample_files(project / KB_FOLDER)
    # The sample FAQ file that is the target is rewritten; any other sample file goes.
    others = [s for s in samples if s.resolve() != target.resolve()]
    existing = read_faq_file(target) if target.is_file() else []
    replacing = replace or len(others) < len(samples)
    by_id = {} if replacing else {p.id: p for p in existing}
    added = sum(1 for p in incoming if p.id not in by_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    if existing and not replacing and target.suffix.lower() in EDITABLE_SUFFIXES:
        # The business's own file: its comments, quotes, blank lines and order stay; an
        # entry with an imported id is rewritten in place, the new ones go at the end.
        opened = FaqFile.read(target)
        opened.save(opened.merged([FaqEntry.of(p) for p in incoming]), opened.digest)
    else:
        for passage in incoming:
            by_id[passage.id] = passage  # an imported entry replaces the one with its id
        export_faq(list(by_id.values()), target)
    for sample in others:
        sample.unlink()
    return Imported(target, len(incoming), added, len(existing) if replacing else None, samples)

"""Knowledge-base documents read into passages: one per FAQ entry, one per page section.

`data/kb/` holds any mix of:
- Markdown pages (`*.md`): split at headings, long sections at paragraphs;
- FAQ files: YAML (`faq: [{question, answer, id, alternatives, url}]`), CSV (columns
  `question`, `answer`, optional `id`, `alternatives` separated by `|`, `url`), JSON (a list
  of such objects, or `{"faq": [...]}`) and JSONL (one object per line).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from parlez.exceptions import Location, ParlezError, relative

FAQ_SUFFIXES = (".yml", ".yaml", ".csv", ".json", ".jsonl")
#: a page section longer than this many words is split at paragraphs
MAX_CHUNK_WORDS = 180


class KnowledgeFileError(ParlezError):
    code = "P500"


@dataclass
class Passage:
    """One thing the assistant can answer from, with where it came from."""

    id: str
    text: str  # the answer (FAQ) or the section's text (page)
    title: str = ""  # the question (FAQ) or the section's heading path (page)
    alternatives: list[str] = field(default_factory=list)  # other ways to ask (FAQ)
    source: str = ""  # the file, relative to the project
    url: str | None = None
    kind: str = "faq"  # "faq" or "page"
    #: the answer in other languages, by language code (FAQ `answers: {fr: ...}`)
    answers: dict[str, str] = field(default_factory=dict)
    #: the action that gives the answer instead of the text (FAQ `action:`): a price from
    #: the catalogue, a live figure; the text is still searched
    action: str | None = None

    def answer_in(self, language: str | None) -> str:
        """The answer in `language` when the entry has it, else as written."""
        return self.answers.get(language or "", self.text)

    @property
    def questions(self) -> list[str]:
        return [q for q in [self.title, *self.alternatives] if q]

    def fingerprint(self) -> str:
        fields = asdict(self)
        if fields["action"] is None:  # indexes built before entries could name one stay valid
            del fields["action"]
        raw = json.dumps(fields, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Passage:
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "entry"


#: the longest id that is the question's slug alone
SLUG_ID = 60


def question_id(question: str) -> str:
    """An FAQ entry's id made from its question (when the entry gives none)."""
    slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-") or "entry"
    if len(slug) <= SLUG_ID:
        return slug
    digest = hashlib.sha256(question.strip().encode()).hexdigest()[:8]
    return f"{slug[: SLUG_ID - 9].rstrip('-')}-{digest}"


def faq_entries(items: Any, source: str) -> list[Passage]:
    """FAQ objects (`question`, `answer`, optional `id`, `alternatives`, `url`, `answers`,
    `action`) as passages."""
    if isinstance(items, dict) and "faq" in items:
        items = items["faq"]
    if not isinstance(items, list):
        raise KnowledgeFileError(
            "an FAQ file must be a list of {question, answer} entries (or 'faq:' with one)",
            Location(source),
        )
    passages = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise KnowledgeFileError(f"FAQ entry {number} is not a mapping", Location(source))
        question = str(item.get("question") or "").strip()
        answer = str(item.get("answer") or "").strip()
        if not question or not answer:
            raise KnowledgeFileError(
                f"FAQ entry {number} needs both a 'question' and an 'answer'",
                Location(source),
                hint="write each entry as {question: ..., answer: ...}",
            )
        alternatives = item.get("alternatives") or []
        if isinstance(alternatives, str):
            alternatives = [a.strip() for a in alternatives.split("|") if a.strip()]
        answers = item.get("answers") or {}
        if not isinstance(answers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in answers.items()
        ):
            raise KnowledgeFileError(
                f"FAQ entry {number}: 'answers' must map language codes to answers",
                Location(source),
                hint="for example answers: {fr: 'Nous sommes ouverts...', de: '...'}",
            )
        action = item.get("action") or None  # an empty CSV cell names none
        if action is not None and not (isinstance(action, str) and action.strip()):
            raise KnowledgeFileError(
                f"FAQ entry {number}: 'action' must name an action of the domain",
                Location(source),
                hint="for example action: action_tell_price",
            )
        if item.get("id"):
            entry_id = str(item["id"])
            if entry_id in seen:
                raise KnowledgeFileError(
                    f"FAQ entry {number}: the id '{entry_id}' is used twice", Location(source)
                )
        else:
            # Made from the question, the same on every import whatever the order: a short
            # question is its slug; a long one, the start of its slug and a hash of all of
            # it (two questions may start alike for 60 characters). Only the same question
            # twice is numbered.
            base = entry_id = question_id(question)
            copy = 1
            while entry_id in seen:
                copy += 1
                entry_id = f"{base}-{copy}"
        seen.add(entry_id)
        passages.append(
            Passage(
                id=entry_id,
                text=answer,
                title=question,
                alternatives=[str(a) for a in alternatives],
                source=source,
                url=item.get("url"),
                answers={k: v.strip() for k, v in answers.items()},
                action=action.strip() if action else None,
            )
        )
    return passages


def read_faq_file(path: Path) -> list[Passage]:
    source = relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise KnowledgeFileError(f"the file is not UTF-8: {error}", Location(source)) from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".yml", ".yaml"):
            items: Any = yaml.safe_load(text)
        elif suffix == ".json":
            items = json.loads(text)
        elif suffix == ".jsonl":
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            items = list(csv.DictReader(io.StringIO(text)))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise KnowledgeFileError(f"invalid YAML: {error}", Location(source, line)) from None
    except json.JSONDecodeError as error:
        raise KnowledgeFileError(
            f"invalid JSON: {error.msg}", Location(source, error.lineno, error.colno)
        ) from None
    except csv.Error as error:
        raise KnowledgeFileError(f"invalid CSV: {error}", Location(source)) from None
    return faq_entries(items, source)


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def read_markdown(path: Path, max_words: int = MAX_CHUNK_WORDS) -> list[Passage]:
    """A page split at its headings; each passage's title is its heading path. HTML comments
    are not shown on the page, so they are not searched either."""
    source = relative(path)
    lines = _COMMENT.sub("", path.read_text(encoding="utf-8")).splitlines()
    heads: list[str] = []
    body: list[str] = []
    sections: list[tuple[str, str, bool]] = []

    def close() -> None:
        text = "\n".join(body).strip()
        if text:
            sections.append((" > ".join(heads) or path.stem.replace("-", " "), text, bool(heads)))
        body.clear()

    for line in lines:
        match = _HEADING.match(line)
        if match:
            close()
            level = len(match.group(1))
            del heads[level - 1 :]
            heads.extend([""] * (level - 1 - len(heads)))
            heads.append(match.group(2).strip())
            heads[:] = [h for h in heads if h]
        else:
            body.append(line)
    close()
    passages = []
    used: set[str] = set()
    for title, text, headed in sections:
        # Ids from the heading stay the same when other sections are added or moved.
        base = f"{path.stem}-{_slug(title.split(' > ')[-1])}" if headed else path.stem
        for part, chunk in enumerate(split_long(text, max_words), start=1):
            passage_id = base if part == 1 else f"{base}-{part}"
            while passage_id in used:
                passage_id += "-2"
            used.add(passage_id)
            passages.append(
                Passage(id=passage_id, text=chunk, title=title, source=source, kind="page")
            )
    return passages


def split_long(text: str, max_words: int) -> list[str]:
    """Paragraphs packed into chunks of at most `max_words` (a longer paragraph stays whole)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks: list[str] = []
    current: list[str] = []
    words = 0
    for paragraph in paragraphs:
        count = len(paragraph.split())
        if current and words + count > max_words:
            chunks.append("\n\n".join(current))
            current, words = [], 0
        current.append(paragraph)
        words += count
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def kb_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and (p.suffix.lower() == ".md" or p.suffix.lower() in FAQ_SUFFIXES)
    )


def read_file(path: Path) -> list[Passage]:
    return read_markdown(path) if path.suffix.lower() == ".md" else read_faq_file(path)


def read_kb(folder: Path) -> list[Passage]:
    """Every passage of `data/kb/`; ids are made unique across files."""
    passages: list[Passage] = []
    ids: dict[str, str] = {}
    for path in kb_files(folder):
        for passage in read_file(path):
            if passage.id in ids:
                raise KnowledgeFileError(
                    f"the id '{passage.id}' is also used in {ids[passage.id]}",
                    Location(passage.source),
                    hint="give each FAQ entry its own id",
                )
            ids[passage.id] = passage.source
            passages.append(passage)
    return passages


#: the first line of a Markdown page that is the template's sample, not the business's own
SAMPLE_PAGE_MARK = "<!-- sample -->"


def is_sample(path: Path) -> bool:
    """Whether `path` is sample content of the assistant template (a YAML FAQ file with
    `sample: true`, or a page whose first line is `<!-- sample -->`), which a business's own
    knowledge base replaces when it is imported: two businesses' opening hours in one
    knowledge base answer each other's questions."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    suffix = path.suffix.lower()
    if suffix == ".md":
        return text.lstrip().startswith(SAMPLE_PAGE_MARK)
    if suffix in (".yml", ".yaml"):
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError:
            return False
        return isinstance(raw, dict) and raw.get("sample") is True
    return False


def sample_files(folder: Path) -> list[Path]:
    """The template's sample documents in the knowledge-base folder `folder`."""
    return [path for path in kb_files(folder) if is_sample(path)]


def export_faq(passages: Iterable[Passage], path: Path) -> int:
    """Write FAQ passages to CSV, JSON, JSONL or YAML (by the file's suffix)."""
    rows: list[dict[str, Any]] = [
        {
            "id": p.id,
            "question": p.title,
            "answer": p.text,
            "alternatives": p.alternatives,
            "url": p.url,
            **({"answers": p.answers} if p.answers else {}),
            # an entry answered by an action stays one through an export and an import
            **({"action": p.action} if p.action else {}),
        }
        for p in passages
        if p.kind == "faq"
    ]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        columns = ["id", "question", "answer", "alternatives", "url"]
        writer = csv.DictWriter(
            buffer, [*columns, *(["action"] if any("action" in r for r in rows) else [])]
        )
        writer.writeheader()
        for row in rows:  # (a CSV has no column for the translated answers)
            writer.writerow(
                {
                    "id": row["id"],
                    "question": row["question"],
                    "answer": row["answer"],
                    "alternatives": "|".join(row["alternatives"]),
                    "url": row["url"] or "",
                    **({"action": row["action"]} if "action" in row else {}),
                }
            )
        text = buffer.getvalue()
    elif suffix == ".json":
        text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    elif suffix == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif suffix in (".yml", ".yaml"):
        clean = [{k: v for k, v in r.items() if v} for r in rows]
        text = yaml.safe_dump({"faq": clean}, sort_keys=False, allow_unicode=True, width=100)
    else:
        raise KnowledgeFileError(
            f"cannot export to '{path.name}'", hint="use a .csv, .json, .jsonl or .yml file"
        )
    path.write_text(text, encoding="utf-8")
    return len(rows)

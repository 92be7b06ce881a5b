"""Editing an FAQ file in place: one entry changed, added or removed, every other byte kept.

A designer keeps `data/kb/faq.yml` in git, with comments and an order that mean something
to them; the console must not reformat the file when it changes one answer. So an edit is a
splice: the entry's lines are found (ruamel.yaml's round-trip loader gives where each entry
starts), only they are rewritten (dumped by ruamel.yaml in the file's indentation, with the
entry's own comments), and every line outside them is kept byte for byte.

A file is written only if it is still what the editor read (`digest`): a change saved in the
meantime, by a colleague or on disk, is refused with `StaleFileError` instead of being
overwritten.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from parlez.exceptions import Location, ParlezError
from parlez.io.edit import digest_of, load_round_trip, replace_if_unchanged
from parlez.knowledge.documents import KnowledgeFileError, Passage, faq_entries

#: the FAQ files the console can edit (CSV and JSON files are read, and replaced by import)
EDITABLE_SUFFIXES = (".yml", ".yaml")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


class StaleFileError(ParlezError):
    code = "P503"


@dataclass(frozen=True)
class FaqEntry:
    """An entry as a person edits it."""

    question: str
    answer: str
    alternatives: list[str] = field(default_factory=list)
    #: the answer in other languages, by language code
    answers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    id: str | None = None
    #: the action that answers instead of `answer` (an import keeps it; edits leave it be)
    action: str | None = None

    @classmethod
    def of(cls, passage: Passage) -> FaqEntry:
        return cls(
            passage.title,
            passage.text,
            list(passage.alternatives),
            dict(passage.answers),
            passage.url,
            passage.id,
            passage.action,
        )

    def problem(self) -> str | None:
        """What keeps the entry from being saved, in words; None if nothing does."""
        if not self.question.strip():
            return "an entry needs a question"
        if not self.answer.strip():
            return "an entry needs an answer"
        wrong = [code for code in self.answers if not _LANGUAGE.match(code)]
        if wrong:
            return f"'{wrong[0]}' is not a language code (such as fr or pt-BR)"
        if self.id is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}", self.id):
            return "an id is letters, digits, '-', '_' or '.' (at most 80)"
        return None


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # a long answer stays on one line, as people write them
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@dataclass(frozen=True)
class _Span:
    """Where an entry's lines are: [start, end), and the column of its dash."""

    start: int
    end: int
    dash: int


class FaqFile:
    """One YAML FAQ file (`faq: [...]`, or a list at the top), read for editing."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.digest = digest_of(text)
        self.lines = text.splitlines(keepends=True)
        self._data: Any = None
        self._items: CommentedSeq | None = None
        if text.strip():
            self._data = load_round_trip(text, str(path), KnowledgeFileError)
            items = self._data.get("faq") if isinstance(self._data, dict) else self._data
            if not isinstance(items, CommentedSeq):
                raise KnowledgeFileError(
                    "an FAQ file must be a list of {question, answer} entries (or 'faq:' with one)",
                    Location(str(path)),
                )
            if items and items.fa.flow_style():
                raise KnowledgeFileError(
                    "the entries are written in flow style ([...]): the console edits "
                    "entries written one per block",
                    Location(str(path)),
                )
            self._items = items

    @classmethod
    def read(cls, path: Path) -> FaqFile:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        return cls(path, text)

    @property
    def editable(self) -> bool:
        return self.path.suffix.lower() in EDITABLE_SUFFIXES

    def entries(self) -> list[Passage]:
        """The entries as the knowledge base reads them (ids included), in the file's order."""
        if self._items is None:
            return []
        plain = [dict(item) if isinstance(item, dict) else item for item in self._items]
        return faq_entries(plain, str(self.path))

    def _position(self, entry_id: str) -> int:
        for position, passage in enumerate(self.entries()):
            if passage.id == entry_id:
                return position
        raise KnowledgeFileError(f"there is no entry '{entry_id}'", Location(str(self.path)))

    def _span(self, position: int) -> _Span:
        assert self._items is not None
        line, column = self._items.lc.item(position)
        dash = self.lines[line].rfind("-", 0, column)
        end = line + 1
        while end < len(self.lines) and (
            _blank_or_comment(self.lines[end]) or _indent(self.lines[end]) > dash
        ):
            end += 1
        # The blank lines and comments before the next entry are not this entry's.
        while end > line + 1 and _blank_or_comment(self.lines[end - 1]):
            end -= 1
        return _Span(line, end, dash)

    # ---- changes: each returns the file's new text -----------------------------------------

    def put(self, entry: FaqEntry, replacing: str | None = None) -> str:
        """The file with `entry` in place of the entry `replacing`, or added at the end."""
        problem = entry.problem()
        if problem is not None:
            raise KnowledgeFileError(problem, Location(str(self.path)))
        if replacing is None:
            return self._added(entry)
        position = self._position(replacing)
        assert self._items is not None
        return self._edited(self._items[position], self._span(position), _values(entry))

    def _edited(self, item: CommentedMap, span: _Span, values: dict[str, Any]) -> str:
        """The file with the fields of `item` that change rewritten; its other fields, their
        comments and the lines around the entry stay as they are."""
        keys = list(item)
        starts = {key: item.lc.key(key)[0] for key in keys}
        column = item.lc.key(keys[0])[1]
        lines = list(self.lines)
        blocks: dict[str, tuple[int, int]] = {}
        for key in keys:
            later = [line for line in starts.values() if line > starts[key]]
            end = min(later, default=span.end)
            while end > starts[key] + 1 and _blank_or_comment(lines[end - 1]):
                end -= 1
            blocks[key] = (starts[key], end)
        # From the last field up, so the earlier fields' line numbers hold.
        changes: list[tuple[int, int, str]] = []
        for key in FIELDS:
            if key == "id":
                continue  # the entry keeps its id (or its lack of one)
            value = values[key]
            if key in blocks:
                begin, end = blocks[key]
                if value is None:
                    changes.append((begin, end, ""))
                elif item[key] != value:
                    text = _field(key, _kept(item[key], value), column)
                    changes.append((begin, end, text))
            elif value is not None:
                before = [blocks[k][1] for k in FIELDS[: FIELDS.index(key)] if k in blocks]
                at = max(before, default=blocks[keys[0]][1])
                changes.append((at, at, _field(key, value, column)))
        for begin, end, text in sorted(changes, key=lambda c: (c[0], c[1]), reverse=True):
            if begin == span.start and text:  # the first field sits on the entry's dash line
                text = lines[begin][:column] + text[column:]
            elif begin == span.start:
                raise KnowledgeFileError(
                    f"the entry's first field '{keys[0]}' cannot be removed",
                    Location(str(self.path), begin + 1),
                )
            lines[begin:end] = text.splitlines(keepends=True)
        return "".join(lines)

    def remove(self, entry_id: str) -> str:
        position = self._position(entry_id)
        span = self._span(position)
        start, end = span.start, span.end
        # ...with the blank line that kept it apart from the next one (or the one before)
        if end < len(self.lines) and not self.lines[end].strip():
            end += 1
        elif end == len(self.lines) and start > 0 and not self.lines[start - 1].strip():
            start -= 1
        return "".join(self.lines[:start] + self.lines[end:])

    def merged(self, entries: list[FaqEntry]) -> str:
        """The file with each entry whose id it holds rewritten in place (its comments and
        the other entries as they are), and the others added at the end, in order."""
        known = {passage.id for passage in self.entries()}
        current = self
        for entry in entries:
            if entry.id in known:
                current = FaqFile(self.path, current.put(entry, entry.id))
        added = [entry for entry in entries if entry.id not in known]
        return current._added(*added) if added else current.text

    def _added(self, *entries: FaqEntry) -> str:
        fresh_items = []
        for entry in entries:
            problem = entry.problem()
            if problem is not None:
                raise KnowledgeFileError(problem, Location(str(self.path)))
            fresh = CommentedMap()
            if entry.id:
                fresh["id"] = entry.id
            _fill(fresh, entry)
            fresh_items.append(fresh)
        if self._items is None:
            head = self.text if self.text.endswith("\n") or not self.text else self.text + "\n"
            return head + "faq:\n" + "".join(_dumped(fresh, 2) for fresh in fresh_items)
        if not self._items:
            raise KnowledgeFileError(
                "the file's list of entries is empty ([]): write the first entry by hand",
                Location(str(self.path)),
            )
        last = self._span(len(self._items) - 1)
        # Entries apart by a blank line stay so.
        spaced = len(self._items) > 1 and not self.lines[self._span(0).end].strip()
        text = "".join(("\n" if spaced else "") + _dumped(f, last.dash) for f in fresh_items)
        return self._spliced(_Span(last.end, last.end, last.dash), text)

    def _spliced(self, span: _Span, text: str) -> str:
        before = "".join(self.lines[: span.start])
        if before and not before.endswith("\n"):
            before += "\n"
        return before + text + "".join(self.lines[span.end :])

    def save(self, text: str, expected: str | None) -> None:
        """Write `text` if the file is still the one read as `expected` (its `digest`);
        with None, whatever the file holds now (a script that means to overwrite)."""
        if not replace_if_unchanged(self.path, text, expected):
            raise StaleFileError(
                f"'{self.path.name}' changed since it was opened",
                Location(str(self.path)),
                hint="open it again to see the change; your text is kept in the form",
            )


#: the order of an entry's fields, where a field the entry did not have is written
FIELDS = ("id", "question", "alternatives", "answer", "answers", "url")


def _values(entry: FaqEntry) -> dict[str, Any]:
    """The entry's fields as the file holds them (an empty field is left out)."""
    alternatives = [a.strip() for a in entry.alternatives if a.strip()]
    answers = {code: text.strip() for code, text in entry.answers.items() if text.strip()}
    return {
        "id": entry.id or None,
        "question": entry.question.strip(),
        "alternatives": alternatives or None,
        "answer": entry.answer.strip(),
        "answers": answers or None,
        "url": (entry.url or "").strip() or None,
    }


def _fill(item: CommentedMap, entry: FaqEntry) -> None:
    for key, value in _values(entry).items():
        if value is not None:
            item[key] = value
    if entry.action:
        item["action"] = entry.action


def _kept(old: Any, new: Any) -> Any:
    """`new`, with each value that did not change taken from `old` as the file wrote it (its
    quotes), in fresh containers (no comments of the old ones come along)."""
    if isinstance(new, list):
        written = {str(v): v for v in old} if isinstance(old, list) else {}
        fresh = CommentedSeq(written.get(v, v) for v in new)
        return fresh
    if isinstance(new, dict):
        written = old if isinstance(old, dict) else {}
        fresh_map = CommentedMap()
        for code, text in new.items():
            fresh_map[code] = written[code] if written.get(code) == text else text
        return fresh_map
    return old if old == new else new


def _field(key: str, value: Any, column: int) -> str:
    """`key: value` as the lines of a field whose key is at `column`."""
    buffer = io.StringIO()
    _yaml().dump({key: value}, buffer)
    return "".join(
        " " * column + line if line.strip() else line
        for line in buffer.getvalue().splitlines(keepends=True)
    )


def _dumped(item: CommentedMap, dash: int) -> str:
    """The entry as the lines of a list item whose dash is at column `dash`."""
    buffer = io.StringIO()
    _yaml().dump([item], buffer)
    lines = buffer.getvalue().splitlines(keepends=True)
    # Comments and blank lines that followed the entry belong to the file, which keeps them.
    while lines and _blank_or_comment(lines[-1]):
        lines.pop()
    shift = dash - 2  # the dumper puts the dash at column 2
    if shift > 0:
        lines = [" " * shift + line if line.strip() else line for line in lines]
    elif shift < 0:
        lines = [line[-shift:] if line.startswith(" " * -shift) else line for line in lines]
    return "".join(lines)

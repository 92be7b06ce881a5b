"""Adding an example to an intent in the project's own NLU files, in place.

A message the assistant misunderstood, corrected in the console, becomes one more line of
the intent's `examples: |` block, where a designer would have typed it: every other byte of
the file stays (comments, order, the other intents), so the change reads as one added line
in git. An intent no file has yet is added at the end of the first NLU file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from parlez.exceptions import Location, ParlezError
from parlez.io.edit import (
    FileChange,
    digest_of,
    load_round_trip,
    replace_if_unchanged,
    unified_diff,
)
from parlez.io.yaml import is_yaml_file

#: Rasa's markup in an example: `[text](entity)`, `[text]{"entity": ...}`
_MARKUP = re.compile(r"\[[^\]]*\](\(|\{)")


class NluEditError(ParlezError):
    code = "P117"


@dataclass(frozen=True)
class Addition(FileChange):
    """An example to add: the change to its file, and what it adds."""

    intent: str
    example: str
    #: the example was already there: nothing to write
    known: bool = False


@dataclass(frozen=True)
class Span:
    """Words of a message that are an entity: `text[start:end]` (in characters)."""

    start: int
    end: int
    entity: str


_ENTITY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
#: characters that would end Rasa's markup early inside a marked value
_MARKUP_CHARS = set("[]()")


def parse_spans(marks: str) -> list[Span]:
    """ "0:4:name,10:15:city" (as the review page sends the marked words) as spans."""
    spans = []
    for mark in (m for m in marks.split(",") if m.strip()):
        start, _, rest = mark.strip().partition(":")
        end, _, entity = rest.partition(":")
        if not (start.isdigit() and end.isdigit() and entity):
            raise NluEditError(f"'{mark}' is not a marked span such as 0:4:name")
        spans.append(Span(int(start), int(end), entity))
    return spans


def annotated(text: str, spans: Sequence[Span]) -> str:
    """`text` with each span marked as Rasa writes it (`[Anna](name)`), spaces around a
    marked word left outside its brackets."""
    marked = []
    at = 0
    for span in sorted(spans, key=lambda s: s.start):
        start, end = span.start, span.end
        if not 0 <= start < end <= len(text):
            raise NluEditError(f"the marked span {start}:{end} is outside the message")
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            raise NluEditError("a marked span holds no words")
        if start < at:
            raise NluEditError("two marked spans overlap")
        if not _ENTITY_NAME.match(span.entity):
            raise NluEditError(f"'{span.entity}' is not an entity name")
        if _MARKUP_CHARS & set(text[start:end]):
            raise NluEditError("a marked value cannot hold brackets or parentheses")
        marked += [text[at:start], f"[{text[start:end]}]({span.entity})"]
        at = end
    return "".join([*marked, text[at:]])


def example_line(text: str, spans: Sequence[Span] = ()) -> str:
    """A customer's message as one example, on one line, with the `spans` marked as
    entities (and no markup of the customer's own)."""
    if _MARKUP.search(text):
        raise NluEditError(
            "the message looks like Rasa's entity markup ([text](entity)): mark entities in "
            "the file itself"
        )
    line = " ".join(annotated(text, spans).split())
    if not line:
        raise NluEditError("an example cannot be empty")
    return line


def _examples(item: Any) -> list[str]:
    raw = item.get("examples") if isinstance(item, dict) else None
    if not isinstance(raw, str):
        return []
    return [line.strip()[2:].strip() for line in raw.splitlines() if line.strip().startswith("-")]


def add_example(files: list[Path], intent: str, text: str, spans: Sequence[Span] = ()) -> Addition:
    """Where and how `text` becomes an example of `intent`, its `spans` marked as entities,
    among the NLU `files` (the project's data files, in order); nothing is written (see
    `write`)."""
    example = example_line(text, spans)
    first_nlu: tuple[Path, str] | None = None
    for path in files:
        if not is_yaml_file(path):
            continue
        source = path.read_text(encoding="utf-8")
        data = load_round_trip(source, str(path), NluEditError)
        items = data.get("nlu") if isinstance(data, CommentedMap) else None
        if not isinstance(items, CommentedSeq):
            continue
        first_nlu = first_nlu or (path, source)
        for position, item in enumerate(items):
            if not isinstance(item, CommentedMap) or item.get("intent") != intent:
                continue
            if "examples" not in item or not isinstance(item["examples"], str):
                continue
            if example.lower() in (e.lower() for e in _examples(item)):
                return Addition(path, digest_of(source), source, "", intent, example, known=True)
            return _with_line(path, source, item, items, position, intent, example)
    if first_nlu is None:
        raise NluEditError(
            "the project has no NLU file (a data file with `nlu:`) to add the example to",
            hint="create data/nlu.yml with an `nlu:` list",
        )
    path, source = first_nlu
    block = f"\n- intent: {intent}\n  examples: |\n    - {example}\n"
    new = (source if source.endswith("\n") else source + "\n") + block
    return Addition(path, digest_of(source), new, unified_diff(path, source, new), intent, example)


def _with_line(
    path: Path,
    source: str,
    item: CommentedMap,
    items: CommentedSeq,
    position: int,
    intent: str,
    example: str,
) -> Addition:
    lines = source.splitlines(keepends=True)
    start = item.lc.key("examples")[0] + 1  # the block's first line
    # The block ends at the next key of the item, the next item, or the end of the list.
    later = [item.lc.key(k)[0] for k in item if item.lc.key(k)[0] >= start]
    if position + 1 < len(items):
        later.append(items.lc.item(position + 1)[0])
    end = min(later, default=len(lines))
    filled = [n for n in range(start, min(end, len(lines))) if lines[n].strip()]
    # A block's lines are at least as indented as its first one; the first line indented
    # less is something else (a key of the file after the list).
    indent = _indent(lines[filled[0]]) if filled else _indent(lines[start - 1]) + 2
    body = []
    for n in filled:
        if _indent(lines[n]) < indent:
            break
        body.append(n)
    last = body[-1] if body else start - 1
    if lines[last].lstrip().startswith("#"):
        while last > start and lines[last].lstrip().startswith("#"):
            last -= 1
    head = lines[last] if lines[last].endswith("\n") else lines[last] + "\n"
    new_lines = [*lines[:last], head, " " * indent + f"- {example}\n", *lines[last + 1 :]]
    new = "".join(new_lines)
    return Addition(path, digest_of(source), new, unified_diff(path, source, new), intent, example)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def write(addition: Addition, expected: str | None) -> None:
    """Write the addition if its file is still the one read as `expected`."""
    if not replace_if_unchanged(addition.path, addition.text, expected):
        raise NluEditError(
            f"'{addition.path.name}' changed since the correction was shown",
            Location(str(addition.path)),
            hint="look at the correction again: it is shown against the file as it is now",
        )

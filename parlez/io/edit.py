"""Writing a person's file again: only if it is still what was read, and in one step.

The console edits the project's own files (the knowledge base, the NLU data, the test
stories) while designers edit them too. A change is made against the file as it was read
(its `digest`); if the file changed since, nothing is written and the caller says so. The new
text goes to a file beside it first and is renamed over it: a reader (the assistant's index
following the knowledge base) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from parlez.exceptions import Location, ParlezError


def digest_of(text: str) -> str:
    """A short hash of a file's text ("" for no text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] if text else ""


def digest(path: Path) -> str:
    """What the file holds now, as `digest_of` its text ("" when there is no file)."""
    try:
        return digest_of(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ""


def replace_if_unchanged(path: Path, text: str, expected: str | None) -> bool:
    """Write `text` to `path` if the file is still the one read as `expected` (None: write
    whatever it holds now); False, and nothing written, if it changed."""
    if expected is not None and digest(path) != expected:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.saving")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return True


def unified_diff(path: Path, old: str, new: str) -> str:
    """The change from `old` to `new` as `git diff` shows it, for a person to accept."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{path.name}",
            tofile=f"b/{path.name}",
            n=2,
        )
    )


@dataclass(frozen=True)
class FileChange:
    """A change to a person's file, before it is written: the file, its digest when read,
    its new text, and the change as a diff for the person to accept."""

    path: Path
    digest: str
    text: str
    diff: str


def load_round_trip(text: str, source: str, error: type[ParlezError]) -> Any:
    """`text` read by ruamel.yaml's round-trip loader, which knows where each key and item
    is; broken YAML is `error`, naming `source` and the line."""
    yaml = YAML()
    yaml.preserve_quotes = True  # a value rewritten unchanged keeps the quotes it had
    try:
        return yaml.load(text)
    except YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        raise error(
            f"not valid YAML: {problem}", Location(source, mark.line + 1 if mark else None)
        ) from None

"""Errors parlez raises for bad input, each with a stable code, a place and a fix hint.

A user meets these in the CLI as one block (`parlez` prints `render()` and exits), so each
message says what is wrong in words a conversation designer understands, and the hint says
what to change. Codes never change meaning once released; new problems get new codes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """A place in a project file; line and column are 1-based, as editors show them."""

    path: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path or "<string>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ParlezError(Exception):
    """Base of every error parlez raises on purpose."""

    code = "P000"

    def __init__(self, message: str, where: Location | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.hint})" if self.hint else text

    def render(self) -> str:
        """What the CLI prints (`problem_text`)."""
        return problem_text("error", self.code, self.message, self.where, self.hint)


def problem_text(
    level: str, code: str, message: str, where: Location | None = None, hint: str | None = None
) -> str:
    """How parlez writes every problem it reports, an error that stops a command, a finding
    of `data validate` or a warning in the log alike:

        error P101 domain.yml:2:1: a tab character is used for indentation
          hint: YAML indents with spaces only; replace the tab with spaces
    """
    text = f"{level} {code} {where}: {message}" if where else f"{level} {code} {message}"
    return f"{text}\n  hint: {hint}" if hint else text


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """A hint naming the closest known names, or None when nothing is close."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, name, k).ratio(), k) for k in set(known)), reverse=True
    )
    # Only names about as close as the best one: a typo has one intended spelling.
    close = [k for score, k in scored if score >= 0.6 and score >= scored[0][0] - 0.05][:3]
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


class FileReadError(ParlezError):
    """A file is missing or unreadable as a whole."""

    code = "P100"


class YamlSyntaxError(ParlezError):
    code = "P101"


class FileEncodingError(ParlezError):
    code = "P102"


class EmptyFileError(ParlezError):
    code = "P103"


class FileTooLargeError(ParlezError):
    code = "P104"


class MissingEnvironmentVariableError(ParlezError):
    code = "P105"


class OversizedDocumentError(ParlezError):
    """A document that is small as written but would take unbounded time or memory to read:
    aliases that multiply, or nesting deeper than any Rasa file needs."""

    code = "P106"


class SchemaError(ParlezError):
    """A file parses as YAML but a key or value is not what Rasa's format allows."""

    code = "P110"


class NotTrainingDataError(SchemaError):
    """A file in none of the training data formats read: refused where it was named, passed
    over with a warning where a data folder holds it (Rasa passes over it silently)."""

    code = "P124"


class EntityAnnotationError(ParlezError):
    code = "P120"


class DomainError(ParlezError):
    code = "P130"


class DuplicateNameError(DomainError):
    """An intent, entity or action listed twice in one domain file."""

    code = "P135"


class StoryError(ParlezError):
    code = "P150"


class ProjectError(ParlezError):
    """The project as a whole is not usable: missing files, nothing to read."""

    code = "P160"


class MigrationError(ParlezError):
    code = "P170"


def relative(path: Path | str) -> str:
    """A path as the user typed it relative to where they stand, when it is below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)

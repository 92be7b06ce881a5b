"""Warnings found while reading a project, collected for `parlez data validate` or logged.

Readers call `warn()`; outside `collect()` a warning goes to the log, inside it is kept so the
CLI can print every problem of a project in one report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from parlez.exceptions import Location, ParlezError, problem_text

logger = logging.getLogger("parlez")


@dataclass(frozen=True)
class Diagnostic:
    """One finding: `error` means Rasa would refuse the project, `warning` that it would not."""

    level: str
    code: str
    message: str
    where: Location | None = None
    hint: str | None = None

    @classmethod
    def from_error(cls, error: ParlezError) -> Diagnostic:
        return cls("error", error.code, error.message, error.where, error.hint)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.hint})" if self.hint else text

    def render(self) -> str:
        """As parlez writes every problem (`problem_text`), with its code."""
        return problem_text(self.level, self.code, self.message, self.where, self.hint)


_collector: ContextVar[list[Diagnostic] | None] = ContextVar("parlez_diagnostics", default=None)


def warn(code: str, message: str, where: Location | None = None, hint: str | None = None) -> None:
    found = Diagnostic("warning", code, message, where, hint)
    sink = _collector.get()
    if sink is None:
        logger.warning("%s", found.render())
    else:
        sink.append(found)


@contextmanager
def collect() -> Iterator[list[Diagnostic]]:
    """Keep the warnings raised inside the block instead of logging them."""
    sink: list[Diagnostic] = []
    token = _collector.set(sink)
    try:
        yield sink
    finally:
        _collector.reset(token)

"""Regexes and lookup tables of the training data as compiled patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parlez.training_data.training_data import TrainingData


@dataclass(frozen=True)
class Pattern:
    name: str
    pattern: str


def lookup_pattern(elements: list[str], word_boundaries: bool) -> str:
    """One alternation of the elements, longest first so `New York City` beats `New York`."""
    alternatives = "|".join(
        re.escape(e) for e in sorted({e for e in elements if e}, key=len, reverse=True)
    )
    return rf"(?<!\w)(?:{alternatives})(?!\w)" if word_boundaries else f"(?:{alternatives})"


def training_patterns(
    data: TrainingData,
    *,
    use_regexes: bool = True,
    use_lookup_tables: bool = True,
    word_boundaries: bool = True,
) -> list[Pattern]:
    found: list[Pattern] = []
    if use_regexes:
        found += [Pattern(r.name, r.pattern) for r in data.regex_features]
    if use_lookup_tables:
        found += [
            Pattern(t.name, lookup_pattern(t.elements, word_boundaries))
            for t in data.lookup_tables
            if t.elements
        ]
    return found


def compile_pattern(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)

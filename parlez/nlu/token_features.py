"""Features of a token's shape, read over a window of neighbours (Rasa's feature names).

The LexicalSyntacticFeaturizer one-hot encodes them; the CRFEntityExtractor feeds them to
CRFsuite. A window is a list of feature-name lists: (before, token, after) by default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from parlez.exceptions import SchemaError, did_you_mean
from parlez.nlu.message import Token

SHAPE: dict[str, Callable[[Token, int, int], Any]] = {
    "low": lambda t, i, n: t.text.islower(),
    "title": lambda t, i, n: t.text.istitle(),
    "upper": lambda t, i, n: t.text.isupper(),
    "digit": lambda t, i, n: t.text.isdigit(),
    "prefix5": lambda t, i, n: t.text[:5],
    "prefix2": lambda t, i, n: t.text[:2],
    "suffix5": lambda t, i, n: t.text[-5:],
    "suffix3": lambda t, i, n: t.text[-3:],
    "suffix2": lambda t, i, n: t.text[-2:],
    "suffix1": lambda t, i, n: t.text[-1:],
    "BOS": lambda t, i, n: i == 0,
    "EOS": lambda t, i, n: i == n - 1,
    "pos": lambda t, i, n: t.data.get("pos"),
    "pos2": lambda t, i, n: (t.data.get("pos") or "")[:2] or None,
}

#: Extra features a component computes itself: name -> (token index) -> values.
Extra = dict[str, Callable[[int], list[str]]]


def check_windows(component: str, windows: Sequence[Sequence[str]], known: Sequence[str]) -> None:
    for window in windows:
        for name in window:
            if name not in known:
                raise SchemaError(
                    f"{component} has no feature '{name}'",
                    hint=did_you_mean(name, known) or f"use {', '.join(known)}",
                )


def window_values(
    tokens: Sequence[Token],
    windows: Sequence[Sequence[str]],
    extra: Extra | None = None,
    edges: bool = False,
) -> list[list[str]]:
    """Per token, `offset:feature:value` strings over the window; with `edges`, a position
    before the first or after the last token gives `offset:BOS` / `offset:EOS`."""
    extra = extra or {}
    half = len(windows) // 2
    rows = []
    for index in range(len(tokens)):
        values: list[str] = []
        for offset, names in enumerate(windows, start=-half):
            position = index + offset
            if not 0 <= position < len(tokens):
                if edges:
                    values.append(f"{offset}:{'BOS' if position < 0 else 'EOS'}")
                continue
            for name in names:
                if name in extra:
                    values += [f"{offset}:{name}:{v}" for v in extra[name](position)]
                    continue
                value = SHAPE[name](tokens[position], position, len(tokens))
                if value is not None:
                    values.append(f"{offset}:{name}:{value}")
        rows.append(values)
    return rows

"""Small type checks for values read from project files, each failing with a clear error."""

from __future__ import annotations

from typing import Any

from parlez.exceptions import Location, SchemaError


def names(value: Any, what: str, at: Location | None, *, single_ok: bool = False) -> list[str]:
    """A list of names (`[a, b]`); with `single_ok`, a lone name counts as a list of one."""
    if value is None:
        return []
    if single_ok and isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        raise SchemaError(
            f"{what} must be a list of names, not {value!r}", at, hint="e.g. [first, second]"
        )
    return [str(v) for v in value]


def number(value: Any, what: str, at: Location | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{what} must be a number, not {value!r}", at)
    return float(value)


def mapping_list(value: Any, what: str, at: Location | None) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SchemaError(f"{what} must be a list", at)
    return value

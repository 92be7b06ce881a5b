"""Small type checks for values read from project files, each failing with a clear error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parlez.exceptions import Location, ParlezError, SchemaError
from parlez.io.yaml import where


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


def known_keys(
    mapping: dict[str, Any],
    allowed: Sequence[str],
    owner: str,
    at: Location | None,
    error: type[ParlezError] = SchemaError,
    noun: str = "key",
) -> None:
    """Raise `error` at the first key of `mapping` that is not `allowed`, naming its line
    and the keys there are ("the outcome 'booked' has an unknown key 'slot'")."""
    for key in mapping:
        if key not in allowed:
            raise error(
                f"{owner} has an unknown {noun} '{key}'",
                where(mapping, key) or at,
                hint=f"the {noun}s are {', '.join(allowed)}",
            )

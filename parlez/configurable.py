"""What NLU components and dialogue policies share: parameters from config.yml over their
defaults, one warning for parameters they do not use, and learned state in plain files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from parlez.diagnostics import warn
from parlez.exceptions import Location, ParlezError
from parlez.io.state_file import read_state, write_state

T = TypeVar("T", bound="Configurable")


class ParameterTypeError(ParlezError):
    code = "P184"


def kind_problem(default: Any, value: Any) -> str | None:
    """What is wrong with `value` for a parameter whose default is `default`, judged only
    where no Rasa configuration could mean it: a number, or a switch, given as something
    else. Null is always allowed, and a mapping where a number is expected (Rasa's per-part
    sizes, `{text: 256, label: 128}`), as is a list of numbers."""
    if value is None:
        return None
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "is true or false"
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float | dict | list):
            return "is a number"
        if isinstance(default, int) and isinstance(value, float) and not value.is_integer():
            return "is a whole number"
    return None


class Configurable:
    name: ClassVar[str] = "Configurable"
    defaults: ClassVar[dict[str, Any]] = {}
    #: Rasa parameters accepted without being used (no warning for these)
    accepted: ClassVar[set[str]] = set()

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = {**self.defaults, **(config or {})}

    @classmethod
    def create(
        cls: type[T],
        params: Mapping[str, Any],
        where: Location | None = None,
        locations: Mapping[str, Location] | None = None,
    ) -> T:
        """An instance from config.yml parameters; unused ones get one warning naming them,
        and a value of the wrong kind (`epochs: "xxx"`) is an error at its line."""
        for key, value in params.items():
            if key in cls.defaults:
                problem = kind_problem(cls.defaults[key], value)
                if problem is not None:
                    raise ParameterTypeError(
                        f"{cls.name}'s parameter '{key}' {problem}, not {value!r}",
                        (locations or {}).get(key) or where,
                        hint=f"its default is {cls.defaults[key]!r}",
                    )
        unused = sorted(set(params) - set(cls.defaults) - cls.accepted)
        if unused:
            warn(
                "P181",
                f"{cls.name} does not use the parameter{'s' if len(unused) > 1 else ''} "
                f"{', '.join(unused)}; {'they are' if len(unused) > 1 else 'it is'} ignored",
                where,
            )
        return cls({k: v for k, v in params.items() if k in cls.defaults})

    def persist(self, path: Path) -> None:
        """Write what was learned into the folder `path` (created by the caller)."""
        write_state(path, self.state())

    @classmethod
    def load(cls: type[T], path: Path, config: Mapping[str, Any]) -> T:
        loaded = cls(config)
        state = read_state(path)
        if state is not None:
            loaded.set_state(state)
        return loaded

    def state(self) -> dict[str, Any]:
        """Learned state as plain JSON data; classes with arrays override persist/load."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what `state()` returned."""

"""Name -> class registries: a name in config.yml resolves here, Rasa's names included."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

from parlez.exceptions import Location, ParlezError, did_you_mean

if TYPE_CHECKING:
    from parlez.core.policies.policy import Policy
    from parlez.nlu.component import Component

T = TypeVar("T")


class UnknownComponentError(ParlezError):
    code = "P180"


class Registry(Generic[T]):
    """Classes registered under one or more names; aliases resolve to the same class."""

    def __init__(self, kind: str, builtins: str) -> None:
        self.kind = kind
        #: the module whose import registers the built-in classes
        self.builtins = builtins
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str, *aliases: str) -> Callable[[type[T]], type[T]]:
        def add(cls: type[T]) -> type[T]:
            for key in (name, *aliases):
                if key in self._classes and self._classes[key] is not cls:
                    raise ValueError(f"{self.kind} '{key}' is registered twice")
                self._classes[key] = cls
            cls.name = name  # type: ignore[attr-defined]
            return cls

        return add

    def get(self, name: str, where: Location | None = None) -> type[T]:
        self._load_builtins()
        if name not in self._classes:
            raise UnknownComponentError(
                f"unknown {self.kind} '{name}'",
                where,
                hint=did_you_mean(name, self._classes)
                or f"known {self.kind}s: {', '.join(sorted(self._classes))}",
            )
        return self._classes[name]

    def names(self) -> list[str]:
        self._load_builtins()
        return sorted(self._classes)

    def __iter__(self) -> Iterator[type[T]]:
        self._load_builtins()
        seen: list[type[T]] = []
        for cls in self._classes.values():
            if cls not in seen:
                seen.append(cls)
        return iter(seen)

    def _load_builtins(self) -> None:
        # Importing the package runs its @register decorators.
        importlib.import_module(self.builtins)


components: Registry[Component] = Registry("component", "parlez.nlu.components")
register_component = components.register
policies: Registry[Policy] = Registry("policy", "parlez.core.policies")
register_policy = policies.register

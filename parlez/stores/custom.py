"""Stores and brokers of the user's own, named by dotted path in endpoints.yml as in Rasa."""

from __future__ import annotations

import importlib
from typing import Any

from parlez.endpoints import EndpointConfig
from parlez.stores.sql import StoreConfigError


def load_custom(path: str, base: type, config: EndpointConfig, **kwargs: Any) -> Any:
    module_name, _, class_name = path.rpartition(".")
    try:
        cls: Any = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise StoreConfigError(
            f"cannot import '{path}': {error}",
            hint="give the full dotted path of a class importable from the project folder",
        ) from error
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise StoreConfigError(f"'{path}' is not a subclass of {base.__name__}")
    factory: Any = cls  # checked above to be a subclass of base
    instance: Any = factory(config, **kwargs)
    return instance

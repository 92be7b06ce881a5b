"""A package whose `__init__` imports far more than parlez uses, imported name by name.

python-socketio's and python-engineio's `__init__` import every client and message queue they
support: aiohttp (which builds an SSL context as it is imported), requests, redis and
OpenTelemetry, kombu, aio-pika. A server that only serves socket.io needs none of them, and
importing them took about 0.3 s of a start's 2 (`python -X importtime`). `lazy_package`
registers such a package without running its `__init__`: a name the `__init__` takes from a
submodule (`from .async_server import AsyncServer`) imports that submodule alone when it is
first read, and any other name runs the whole `__init__` then, so the package still works in
full for code that wants the rest (a test's `socketio.AsyncClient`).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.RLock()


def lazy_package(name: str) -> ModuleType:
    """The package `name`, imported already or registered to import name by name."""
    with _lock:
        found = sys.modules.get(name)
        if found is not None:
            return found
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or spec.origin is None:
            raise ImportError(f"no package named {name!r}", name=name)
        try:
            with open(spec.origin, encoding="utf-8") as source:
                names = _names_from_submodules(ast.parse(source.read()))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            # no source to read (an installation of compiled files only): imported whole
            return importlib.import_module(name)
        package = importlib.util.module_from_spec(spec)
        submodules = {found.name for found in pkgutil.iter_modules(package.__path__)}
        loader = spec.loader

        def load_all() -> None:
            with _lock:
                if package.__dict__.pop("__getattr__", None) is not None:
                    loader.exec_module(package)

        def __getattr__(attribute: str) -> Any:
            if attribute in submodules:
                # `from . import packet`: the import system asks first, then imports it
                raise AttributeError(attribute)
            where = names.get(attribute)
            if where is not None:
                submodule, original = where
                value = getattr(importlib.import_module(f"{name}.{submodule}"), original)
                setattr(package, attribute, value)
                return value
            load_all()
            return getattr(package, attribute)

        package.__getattr__ = __getattr__  # type: ignore[method-assign]
        sys.modules[name] = package
        return package


def _names_from_submodules(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """What `from .submodule import Name [as Alias]` lines of an `__init__` give: Alias ->
    (submodule, Name). Only top-level lines: one under `try:` may fail on purpose."""
    names: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
    return names

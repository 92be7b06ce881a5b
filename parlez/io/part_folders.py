"""A list of trained parts (NLU components, policies), each in a folder of its own beside a
JSON manifest that says, in order, which part is in which folder and with what config."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Part(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...

    def persist(self, path: Path) -> None: ...


def write_parts(
    path: Path,
    manifest: str,
    key: str,
    parts: Sequence[tuple[str, Part]],
    **extra: Any,
) -> None:
    """Each `(folder, part)` persisted into `path/folder`; the manifest lists them under
    `key`, with the `extra` entries beside."""
    path.mkdir(parents=True, exist_ok=True)
    index = []
    for folder, part in parts:
        (path / folder).mkdir(exist_ok=True)
        part.persist(path / folder)
        index.append({"name": part.name, "folder": folder, "config": part.config})
    (path / manifest).write_text(
        json.dumps({**extra, key: index}, indent=2, ensure_ascii=False), encoding="utf-8"
    )


def read_parts(
    path: Path,
    manifest: str,
    key: str,
    load: Callable[[str, Path, dict[str, Any]], T],
    missing: Exception,
) -> tuple[list[T], dict[str, Any]]:
    """The parts `write_parts` wrote, loaded in order by `load(name, folder, config)`, and
    the whole manifest; `missing` is raised when there is no manifest."""
    file = path / manifest
    if not file.exists():
        raise missing
    written = json.loads(file.read_text(encoding="utf-8"))
    loaded = [load(i["name"], path / i["folder"], i["config"]) for i in written[key]]
    return loaded, written

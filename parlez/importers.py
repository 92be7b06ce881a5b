"""Rasa's `importers:` in config.yml. `MultiProjectImporter` makes one assistant of several
projects: the folders and files under `imports:` (relative to the config file), and what
their own config files import in turn, give the domain files, training data and test stories
that are merged, as Rasa's importer finds them. `RasaFileImporter` is the default layout.

    importers:
    - name: MultiProjectImporter
    imports:
    - projects/ChitchatBot
    - projects/GreetBot
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parlez.diagnostics import warn
from parlez.exceptions import Location, ParlezError, relative
from parlez.io.yaml import is_yaml_file, read_yaml_file, where

MULTI_PROJECT = "MultiProjectImporter"
DEFAULT = "RasaFileImporter"
DOMAIN_KEYS = ("intents", "entities", "slots", "responses", "actions", "forms", "session_config")
DATA_KEYS = ("nlu", "stories", "rules", "responses")


@dataclass
class ImportedFiles:
    """What the imported projects hold, each file once, in the order found."""

    domain: list[Path] = field(default_factory=list)
    data: list[Path] = field(default_factory=list)
    tests: list[Path] = field(default_factory=list)
    configs: list[Path] = field(default_factory=list)

    def add(self, kind: list[Path], path: Path) -> None:
        if path not in kind:
            kind.append(path)


def importer_names(config_path: Path) -> list[str]:
    """The importers config.yml names; those parlez does not have are said once and read
    as Rasa's default layout."""
    raw = _read(config_path)
    items = raw.get("importers") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        return []
    names = []
    for index, item in enumerate(items):
        name = str(item.get("name") if isinstance(item, dict) else item)
        # Rasa takes its own importers by module path too
        short = name.rsplit(".", 1)[-1] if name.startswith("rasa.") else name
        if short in (MULTI_PROJECT, DEFAULT):
            names.append(short)
            continue
        warn(
            "P164",
            f"the importer '{name}' is not one parlez has: the project is read from its "
            "usual files instead",
            where(items, index) or Location(relative(config_path)),
            hint=f"parlez reads Rasa's file layout and {MULTI_PROJECT}; put the data in files",
        )
    return names


def multi_project_files(config_path: Path) -> ImportedFiles:
    """Every file of the projects that `config_path` imports, recursively."""
    found = ImportedFiles()
    _import_config(config_path.resolve(), found)
    return found


def _import_config(config_path: Path, found: ImportedFiles, raw: Any = None) -> None:
    if config_path in found.configs:
        return
    found.configs.append(config_path)
    raw = _read(config_path) if raw is None else raw
    imports = raw.get("imports") if isinstance(raw, dict) else None
    for index, name in enumerate(imports if isinstance(imports, list) else []):
        path = (config_path.parent / str(name)).resolve()
        if path.is_dir():
            _import_folder(path, found)
        elif path.is_file():
            _import_file(path, found)
        else:
            warn(
                "P165",
                f"'{name}' under imports: does not exist",
                where(imports, index) or Location(relative(config_path)),
                hint="imports are folders or files relative to this config file",
            )


def _import_folder(folder: Path, found: ImportedFiles) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and (is_yaml_file(path) or path.suffix == ".json"):
            _import_file(path.resolve(), found)


def _import_file(path: Path, found: ImportedFiles) -> None:
    """One file, read once: a config (followed), test stories, a domain or training data."""
    if path.suffix == ".json":
        found.add(found.data, path)
        return
    raw = _read(path)
    if not isinstance(raw, dict):
        return
    if any(key in raw for key in ("pipeline", "policies", "imports")):
        _import_config(path, found, raw)
    elif "tests" in path.parts or path.name.startswith("test_"):
        found.add(found.tests, path)
    elif any(key in raw for key in DOMAIN_KEYS) and not any(
        key in raw for key in ("nlu", "stories", "rules")
    ):
        found.add(found.domain, path)
    elif any(key in raw for key in DATA_KEYS):
        found.add(found.data, path)


def _read(path: Path) -> Any:
    """A file's YAML, or None: a broken file is reported where it is read as what it is."""
    try:
        return read_yaml_file(path) if path.is_file() else None
    except ParlezError:
        return None

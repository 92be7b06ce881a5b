"""`parlez data migrate`: a Rasa 2.x domain to the 3.x format, as `rasa data migrate` does.

Rasa 2.x kept slot mappings inside forms and filled slots from same-named entities
(`auto_fill`); Rasa 3.x keeps every mapping on the slot, with conditions saying which form must
be active. The original is kept next to the result as `original_domain.yml`.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

from parlez.diagnostics import warn
from parlez.exceptions import Location, MigrationError, relative
from parlez.io.write import plain, write_yaml
from parlez.io.yaml import is_yaml_file, read_yaml_file

LATEST_VERSION = "3.1"
_NO_REQUESTED_SLOT = ("from_entity", "from_trigger_intent")


def _condition(form: str, mapping: dict[str, Any], slot: str) -> dict[str, Any]:
    # A from_text/from_intent mapping inside a 2.x form only applied while its slot was asked.
    if mapping.get("type") in _NO_REQUESTED_SLOT:
        return {"active_loop": form}
    return {"active_loop": form, "requested_slot": slot}


def _merge_mappings(
    existing: list[dict[str, Any]], from_form: list[dict[str, Any]], form: str, slot: str
) -> list[dict[str, Any]]:
    pending = [copy.deepcopy(m) for m in from_form]
    merged: list[dict[str, Any]] = []
    for mapping in existing:
        mapping = copy.deepcopy(mapping)
        conditions = mapping.pop("conditions", [])
        if mapping in pending:
            pending.remove(mapping)
            conditions.append(_condition(form, mapping, slot))
        if conditions:
            mapping["conditions"] = conditions
        merged.append(mapping)
    for mapping in pending:
        mapping["conditions"] = [_condition(form, mapping, slot)]
        merged.append(mapping)
    return merged


def migrate_domain(original: dict[str, Any]) -> dict[str, Any]:
    """The 3.x form of a parsed 2.x domain document."""
    original = plain(original)
    slots: dict[str, Any] = copy.deepcopy(original.get("slots") or {})
    forms: dict[str, Any] = {}
    for form_name, definition in (original.get("forms") or {}).items():
        definition = dict(definition or {})
        ignored = definition.pop("ignored_intents", [])
        slot_mappings = definition.get("required_slots", definition)
        if isinstance(slot_mappings, list):
            forms[form_name] = {"required_slots": slot_mappings}  # already 3.x
        else:
            for slot_name, mappings in (slot_mappings or {}).items():
                properties = slots.setdefault(slot_name, {})
                properties["mappings"] = _merge_mappings(
                    properties.get("mappings", []), mappings or [], form_name, slot_name
                )
            forms[form_name] = {"required_slots": list((slot_mappings or {}).keys())}
        if ignored:
            forms[form_name]["ignored_intents"] = ignored
    entities = [e if isinstance(e, str) else next(iter(e)) for e in original.get("entities") or []]
    for slot_name, properties in slots.items():
        auto_fill = properties.pop("auto_fill", True)
        mappings = properties.setdefault("mappings", [])
        from_entity = {"type": "from_entity", "entity": slot_name}
        if auto_fill is True and slot_name in entities and from_entity not in mappings:
            mappings.append(from_entity)
        if not mappings:
            properties["mappings"] = [{"type": "custom"}]
            warn(
                "P171",
                f"a custom mapping was added to slot '{slot_name}'; check that this is right",
            )
    migrated: dict[str, Any] = {}
    for key, value in original.items():
        if key == "slots":
            migrated[key] = slots
        elif key == "forms":
            migrated[key] = forms
        elif key == "version":
            migrated[key] = LATEST_VERSION
        else:
            migrated[key] = value
    if "version" not in migrated:
        migrated = {"version": LATEST_VERSION, **migrated}
    if "slots" not in migrated and slots:
        migrated["slots"] = slots
    return migrated


def migrate_domain_file(domain: Path, out: Path | None = None) -> tuple[Path, Path]:
    """Migrate `domain` (a file or a folder); returns (migrated path, backup path)."""
    if not domain.exists():
        raise MigrationError(
            f"there is no domain at '{relative(domain)}'", Location(relative(domain))
        )
    is_file = domain.is_file()
    backup = domain.parent / ("original_domain.yml" if is_file else "original_domain")
    out = out or domain.parent / ("new_domain.yml" if is_file else "new_domain")
    if backup.exists():
        raise MigrationError(
            f"the backup location '{relative(backup)}' already exists",
            Location(relative(backup)),
            hint="remove or rename it, then run the migration again",
        )
    if is_file and out.exists():
        raise MigrationError(
            f"'{relative(out)}' already exists",
            Location(relative(out)),
            hint="remove it or pass --out",
        )
    files = (
        [domain]
        if is_file
        else sorted(f for f in domain.iterdir() if f.is_file() and is_yaml_file(f))
    )
    documents = {f: read_yaml_file(f) or {} for f in files}
    for f, document in documents.items():
        if str(document.get("version", "")).startswith("3"):
            raise MigrationError(
                f"'{relative(f)}' is already in the Rasa 3 format (version {document['version']})",
                Location(relative(f)),
                hint="only 2.x domains need migrating",
            )
    if is_file:
        shutil.copyfile(domain, backup)
        write_yaml(migrate_domain(documents[domain]), out)
        return out, backup
    combined: dict[str, Any] = {}
    for document in documents.values():
        for key in ("slots", "forms"):
            combined.setdefault(key, {}).update(document.get(key) or {})
        combined.setdefault("entities", []).extend(document.get("entities") or [])
    migrated = migrate_domain(combined)
    backup.mkdir()
    out.mkdir(parents=True, exist_ok=True)
    for f, document in documents.items():
        shutil.copyfile(f, backup / f.name)
        new = dict(plain(document))
        new["version"] = LATEST_VERSION
        if "slots" in document:
            new["slots"] = migrated["slots"]
        if "forms" in document:
            new["forms"] = migrated["forms"]
        write_yaml(new, out / f.name)
    return out, backup

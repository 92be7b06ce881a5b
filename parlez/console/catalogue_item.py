"""One service or product of the catalogue in every language the business speaks: its name
and description in each (`names:`, `descriptions:`), and the other words customers use for
it (`aliases:`), as the console edits them in `business.yml`, key by key in place.

The first of the business's `languages` is the one `name` and `description` are written in;
the others are kept under `names` and `descriptions`, which the assistant reads to answer a
customer in their language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from parlez.console.business import SettingsProblem
from parlez.io.yaml_edit import FlowMapping, remove_key, set_value

KINDS = ("services", "products")


@dataclass(frozen=True)
class CatalogueItem:
    kind: str
    position: int
    name: str
    description: str = ""
    aliases: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)


def _texts(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def find_item(text: str, kind: str, name: str) -> CatalogueItem | None:
    """The item of `kind` called `name` (as written, any case), or None."""
    raw: Any = yaml.safe_load(text) or {}
    items = raw.get(kind) if isinstance(raw, dict) and kind in KINDS else None
    for position, item in enumerate(items or []):
        if isinstance(item, dict) and str(item.get("name", "")).lower() == name.lower():
            return CatalogueItem(
                kind,
                position,
                str(item["name"]),
                str(item.get("description") or ""),
                [str(a) for a in item.get("aliases") or []],
                _texts(item.get("names")),
                _texts(item.get("descriptions")),
            )
    return None


def languages_of(text: str) -> list[str]:
    """The business's languages, the first being the one `name` is written in."""
    raw: Any = yaml.safe_load(text) or {}
    found = raw.get("languages") if isinstance(raw, dict) else None
    return [str(code) for code in found or []] or ["en"]


def aliases(typed: str) -> list[str]:
    """ "cut, trim, coupe de cheveux" as the list, duplicates dropped (any case)."""
    seen: dict[str, str] = {}
    for alias in re.split(r"[,\n]", typed):
        alias = " ".join(alias.split())
        if alias and alias.lower() not in seen:
            seen[alias.lower()] = alias
    return list(seen.values())


def item_changed(
    text: str, item: CatalogueItem, form: dict[str, str], source: str
) -> tuple[str, list[str]]:
    """`text` with what the form says of `item` (`description`, `aliases`, and `name_<code>`
    and `description_<code>` for each other language), and the keys it changed."""
    where: list[str | int] = [item.kind, item.position]
    keys: list[str] = []
    called = f"{item.kind}.{item.name}"
    if "description" in form and form["description"].strip() != item.description:
        wanted = form["description"].strip()
        text = (
            set_value(text, [*where, "description"], wanted, source)
            if wanted
            else remove_key(text, [*where, "description"], source)
        )
        keys.append(f"{called}.description")
    if "aliases" in form and aliases(form["aliases"]) != item.aliases:
        wanted_aliases = aliases(form["aliases"])
        text = (
            set_value(text, [*where, "aliases"], wanted_aliases, source)
            if wanted_aliases
            else remove_key(text, [*where, "aliases"], source)
        )
        keys.append(f"{called}.aliases")
    for language in languages_of(text)[1:]:
        for key, current, inline in (
            ("names", item.names, True),
            ("descriptions", item.descriptions, False),
        ):
            field_name = f"{key[:-1]}_{language}"
            if field_name not in form:
                continue
            wanted = " ".join(form[field_name].split())
            if wanted == current.get(language, ""):
                continue
            if len(wanted) > 500:
                raise SettingsProblem(f"{item.name}: a {key[:-1]} has at most 500 characters")
            if wanted and not current:
                # the first one: names in braces on one line, descriptions one a line
                made = FlowMapping({language: wanted}) if inline else {language: wanted}
                text = set_value(text, [*where, key], made, source)
            elif wanted:
                text = set_value(text, [*where, key, language], wanted, source)
            elif len(current) == 1:
                text = remove_key(text, [*where, key], source)
            else:
                text = remove_key(text, [*where, key, language], source)
            keys.append(f"{called}.{key}.{language}")
    return text, keys

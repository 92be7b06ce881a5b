"""Rasa's inline entity markup: `[text](type)`, `[text](type:value)`, `[text]{"entity": ...}`.

`parse` turns an annotated example into plain text plus entities; `annotate` writes it back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from parlez.exceptions import EntityAnnotationError, Location
from parlez.training_data.example import Entity

_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)"
    r"|\{(?P<dict>[^}]+?)\}"
    r"|\[(?P<dicts>.*?)\])"
)
# What is left of a broken annotation once the valid ones are removed: `[text(type)`,
# `text](type)`, `[text]` followed by a `(` or `{` that does not close.
_BROKEN = re.compile(r"\[[^\[\]]*\]\s*[({]|\][({]|\[[^\[\]]*[({][^\]]*$")

_ALLOWED_KEYS = {"entity", "value", "role", "group"}


def _entity_dicts(raw: str, kind: str, at: Location | None) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise EntityAnnotationError(
            f"the entity annotation {raw!r} is not valid JSON ({error.msg})",
            at,
            hint='write it as [text]{"entity": "type", "value": "...", "role": "..."}',
        ) from None
    items = parsed if kind == "dicts" else [parsed]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise EntityAnnotationError(
            f"the entity annotation {raw!r} must be a JSON object", at, hint='{"entity": "type"}'
        )
    for item in items:
        if "entity" not in item:
            raise EntityAnnotationError(
                f"the entity annotation {raw!r} has no 'entity' key",
                at,
                hint='name the entity type: {"entity": "city"}',
            )
        unknown = set(item) - _ALLOWED_KEYS
        if unknown:
            raise EntityAnnotationError(
                f"the entity annotation {raw!r} has unknown keys: {', '.join(sorted(unknown))}",
                at,
                hint="allowed keys are entity, value, role and group",
            )
    return items


def parse(annotated: str, at: Location | None = None) -> tuple[str, list[Entity]]:
    """Plain text and entities of an annotated example."""
    if "[" not in annotated and "]" not in annotated:
        return annotated, []
    entities: list[Entity] = []
    plain: list[str] = []
    length = 0
    cursor = 0
    for match in _ANNOTATION.finditer(annotated):
        before = annotated[cursor : match.start()]
        plain.append(before)
        length += len(before)
        text = match.group("text")
        start, end = length, length + len(text)
        plain.append(text)
        length = end
        cursor = match.end()
        if match.group("entity") is not None:
            value = match.group("value")
            entities.append(
                Entity(start, end, value if value is not None else text, match.group("entity"))
            )
        else:
            kind = "dict" if match.group("dict") is not None else "dicts"
            raw = match.group(kind)
            raw = "{" + raw + "}" if kind == "dict" else "[" + raw + "]"
            for item in _entity_dicts(raw, kind, at):
                entities.append(
                    Entity(
                        start,
                        end,
                        item.get("value", text),
                        str(item["entity"]),
                        item.get("role"),
                        item.get("group"),
                    )
                )
    plain.append(annotated[cursor:])
    leftover = _ANNOTATION.sub("", annotated)
    if _BROKEN.search(leftover):
        raise EntityAnnotationError(
            f"the entity annotation in {annotated!r} is not closed",
            at,
            hint="write entities as [text](entity) or [text](entity:value), "
            "with every '[' and '(' closed",
        )
    return "".join(plain), entities


def annotate(text: str, entities: list[Entity]) -> str:
    """The example with its entities written inline, the shortest way Rasa reads back."""
    out: list[str] = []
    cursor = 0
    for entity in sorted(entities, key=lambda e: (e.start, e.end)):
        if entity.start < cursor:
            continue  # overlapping annotations cannot be written inline
        surface = text[entity.start : entity.end]
        out.append(text[cursor : entity.start])
        if entity.role is None and entity.group is None:
            if str(entity.value) == surface:
                out.append(f"[{surface}]({entity.entity})")
            else:
                out.append(f"[{surface}]({entity.entity}:{entity.value})")
        else:
            body: dict[str, Any] = {"entity": entity.entity}
            if str(entity.value) != surface:
                body["value"] = entity.value
            if entity.role is not None:
                body["role"] = entity.role
            if entity.group is not None:
                body["group"] = entity.group
            out.append(f"[{surface}]{json.dumps(body, ensure_ascii=False)}")
        cursor = entity.end
    out.append(text[cursor:])
    return "".join(out)

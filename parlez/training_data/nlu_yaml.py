"""Rasa's YAML NLU format: read `nlu:` sections into TrainingData, and write them back."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from parlez.diagnostics import warn
from parlez.exceptions import Location, SchemaError, did_you_mean
from parlez.io.yaml import UNWRITABLE, YamlMap, double_quoted, where
from parlez.training_data import markup
from parlez.training_data.example import Entity, Example, split_intent
from parlez.training_data.training_data import LookupTable, RegexFeature, TrainingData

KEY_KINDS = ("intent", "synonym", "regex", "lookup")
ITEM_KEYS = {*KEY_KINDS, "examples", "metadata"}


def _item_kind(item: YamlMap) -> str:
    kinds = [k for k in KEY_KINDS if k in item]
    if len(kinds) != 1:
        unknown = [k for k in item if k not in ITEM_KEYS]
        hint = did_you_mean(unknown[0], ITEM_KEYS) if unknown else None
        raise SchemaError(
            "each item in 'nlu' needs exactly one of 'intent', 'synonym', 'regex' or 'lookup'"
            + (f", found {', '.join(kinds)}" if kinds else ""),
            item.where(),
            hint=hint or "start the item with '- intent: <name>'",
        )
    for key in item:
        if key not in ITEM_KEYS:
            raise SchemaError(
                f"unknown key '{key}' in the {kinds[0]} '{item[kinds[0]]}'",
                item.where(key),
                hint=did_you_mean(key, ITEM_KEYS)
                or f"allowed keys: {', '.join(sorted(ITEM_KEYS))}",
            )
    name = item[kinds[0]]
    if not isinstance(name, (str, int, float)) or isinstance(name, bool) or name == "":
        raise SchemaError(
            f"the {kinds[0]} name must be a plain text, not {name!r}",
            item.where(kinds[0], value=True),
        )
    return kinds[0]


def _block_lines(
    item: YamlMap, owner: str
) -> list[tuple[str, Location | None, dict[str, Any] | None]]:
    """The examples of an item as (text, location, metadata) triples."""
    examples = item.get("examples")
    if examples is None:
        warn(
            "P111",
            f"'{owner}' has no examples",
            item.where(),
            hint="add 'examples: |' with one '- example' per line",
        )
        return []
    if isinstance(examples, str):
        line0 = item.where("examples", value=True).line or 0
        found: list[tuple[str, Location | None, dict[str, Any] | None]] = []
        for offset, raw in enumerate(examples.splitlines(), start=1):
            stripped = raw.strip()
            if not stripped:
                continue
            at = Location(item.path, line0 + offset) if line0 else item.where("examples")
            if not stripped.startswith("-"):
                warn(
                    "P112",
                    f"the example {stripped!r} of '{owner}' does not start with '- ' and is skipped",
                    at,
                    hint="write each example on its own line as '- example'",
                )
                continue
            found.append((stripped[1:].strip(), at, None))
        return found
    if isinstance(examples, list):
        listed: list[tuple[str, Location | None, dict[str, Any] | None]] = []
        for index, entry in enumerate(examples):
            item_at = where(examples, index)
            if isinstance(entry, dict):
                if "text" not in entry:
                    raise SchemaError(
                        f"an example of '{owner}' given as a mapping needs a 'text' key",
                        item_at,
                        hint="- text: |\n      the example\n    metadata: ...",
                    )
                unknown = set(entry) - {"text", "metadata"}
                if unknown:
                    key = sorted(unknown)[0]
                    raise SchemaError(
                        f"unknown key '{key}' in an example of '{owner}'",
                        where(entry, key),
                        hint="an example mapping has 'text' and optionally 'metadata'",
                    )
                listed.append((str(entry["text"]).strip(), item_at, entry.get("metadata")))
            elif isinstance(entry, (str, int, float)):
                listed.append((str(entry).strip(), item_at, None))
            else:
                raise SchemaError(f"an example of '{owner}' must be text", item_at)
        return listed
    raise SchemaError(
        f"the examples of '{owner}' must be a '|' block of '- ' lines or a list",
        item.where("examples", value=True),
    )


def _lookup_file(item: YamlMap, source: Path | None) -> list[str] | None:
    """Elements of a lookup table given as a path to a text file, one element per line."""
    examples = item.get("examples")
    if (
        not isinstance(examples, str)
        or "\n" in examples.strip()
        or examples.strip().startswith("-")
    ):
        return None
    candidate = Path(examples.strip())
    for base in ([source.parent] if source else []) + [Path.cwd()]:
        path = candidate if candidate.is_absolute() else base / candidate
        if path.is_file():
            from parlez.io.yaml import read_text_file

            return [line.strip() for line in read_text_file(path).splitlines() if line.strip()]
    return None


def read_nlu_section(items: Any, source: Path | None = None) -> TrainingData:
    """TrainingData from the value of an `nlu:` key."""
    data = TrainingData()
    if items is None:
        return data
    if not isinstance(items, list):
        raise SchemaError(
            "'nlu' must be a list of items such as '- intent: greet'",
            Location(str(source) if source else None),
        )
    for index, item in enumerate(items):
        if not isinstance(item, YamlMap):
            raise SchemaError(
                "each item in 'nlu' must be a mapping such as '- intent: greet'",
                where(items, index),
            )
        kind = _item_kind(item)
        name = str(item[kind])
        if kind == "intent":
            _read_intent(item, name, data)
        elif kind == "synonym":
            for text, _, _ in _block_lines(item, name):
                data.entity_synonyms[text] = name
        elif kind == "regex":
            for text, at, _ in _block_lines(item, name):
                try:
                    re.compile(text)
                except re.error as error:
                    raise SchemaError(
                        f"the regex {text!r} of '{name}' is not a valid pattern ({error})",
                        at,
                        hint="escape special characters such as '(' or '+' with '\\'",
                    ) from None
                data.regex_features.append(RegexFeature(name, text, at))
        else:
            elements = _lookup_file(item, source)
            if elements is None:
                elements = [text for text, _, _ in _block_lines(item, name)]
            data.lookup_tables.append(LookupTable(name, elements, item.where()))
    return data


def _read_intent(item: YamlMap, name: str, data: TrainingData) -> None:
    intent, response_key = split_intent(name)
    intent_metadata = item.get("metadata")
    for text, at, metadata in _block_lines(item, name):
        plain, entities = markup.parse(text, at)
        # Rasa's shape: the intent's metadata and the example's, each under its own key.
        kept: dict[str, Any] = {}
        if intent_metadata is not None:
            kept["intent"] = intent_metadata
        if metadata is not None:
            kept["example"] = metadata
        data.examples.append(Example(plain, intent, entities, kept or None, response_key, at))
        _add_synonyms(plain, entities, data, at)


def _add_synonyms(
    text: str, entities: list[Entity], data: TrainingData, at: Location | None
) -> None:
    """An annotation whose value differs from its words (`[NYC]{"entity": "city", "value":
    "New York"}`) makes those words a synonym of the value, as Rasa records it."""
    for entity in entities:
        words = text[entity.start : entity.end]
        value = entity.value
        if not isinstance(value, str) or words == value:
            continue
        known = data.entity_synonyms.get(words)
        if known is not None and known != value:
            warn(
                "P122",
                f"'{words}' is a synonym of both '{known}' and '{value}': '{value}' is kept",
                at,
                hint="give the same words one value",
            )
        data.entity_synonyms[words] = value


# ---- writing -----------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_][\w./-]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "~"}


def _scalar(text: str) -> str:
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return double_quoted(text)


def _block(lines: list[str], indent: str = "    ") -> str:
    return "".join(f"{indent}- {line}\n" for line in lines)


def write_nlu_yaml(data: TrainingData) -> str:
    """Rasa 3.x YAML for the training data, grouped by intent in first-seen order."""
    out = ['version: "3.1"\n', "nlu:\n"]
    grouped: dict[str, list[Example]] = {}
    for m in data.examples:
        grouped.setdefault(m.full_intent or "", []).append(m)
    for intent, messages in grouped.items():
        out.append(f"- intent: {_scalar(intent)}\n")
        shared = next(
            (m.metadata["intent"] for m in messages if m.metadata and "intent" in m.metadata),
            None,
        )
        if shared is not None:
            out.append(f"  metadata: {json.dumps(shared, ensure_ascii=False)}\n")
        if any((m.metadata or {}).get("example") is not None for m in messages) or any(
            # what a block's lines cannot hold: a line break, a character YAML refuses
            "\n" in m.text or UNWRITABLE.search(m.text)
            for m in messages
        ):
            out.append("  examples:\n")
            for m in messages:
                text = markup.annotate(m.text, m.entities)
                out.append(f"  - text: {double_quoted(text)}\n")
                example = (m.metadata or {}).get("example")
                if example is not None:
                    out.append(f"    metadata: {json.dumps(example, ensure_ascii=False)}\n")
        else:
            out.append("  examples: |\n")
            out.append(_block([markup.annotate(m.text, m.entities) for m in messages]))
    synonyms: dict[str, list[str]] = {}
    for text, value in data.entity_synonyms.items():
        synonyms.setdefault(value, []).append(text)
    for value, texts in synonyms.items():
        out.append(f"- synonym: {_scalar(value)}\n  examples: |\n{_block(texts)}")
    regexes: dict[str, list[str]] = {}
    for feature in data.regex_features:
        regexes.setdefault(feature.name, []).append(feature.pattern)
    for name, patterns in regexes.items():
        out.append(f"- regex: {_scalar(name)}\n  examples: |\n{_block(patterns)}")
    for table in data.lookup_tables:
        out.append(f"- lookup: {_scalar(table.name)}\n  examples: |\n{_block(table.elements)}")
    return "".join(out)

"""A Dialogflow (ES) agent's export, read as NLU training data the way Rasa reads it.

The export is a folder: `intents/<name>.json` with its examples in `<name>_usersays_<lang>.json`
beside it, `entities/<name>.json` with its entries in `<name>_entries_<lang>.json`. Each
intent or entity file is read with its examples in the project's language; the examples'
files, `agent.json` and `package.json` hold nothing more and are passed over.

- an example's parts are joined into its text; a part with an entity (`alias`, else `meta`)
  is that entity, `@sys.ignore` excepted;
- an entity's entries give synonyms (each synonym -> its entry's value, its own included, so
  that matching ignores case as Rasa's does) and a lookup table of every synonym (those naming
  other entities, `@...`, left out); a regular-expression entity's entries are regex features.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parlez.diagnostics import warn
from parlez.exceptions import Location, SchemaError, relative
from parlez.io.yaml import read_text_file
from parlez.training_data.example import Entity, Example
from parlez.training_data.training_data import LookupTable, RegexFeature, TrainingData

#: the files of an export that hold nothing to train on
AGENT_FILES = {"agent.json", "package.json"}
#: an example part Dialogflow marks as not an entity
IGNORED_ENTITY = "@sys.ignore"


def is_examples_file(path: Path, document: Any) -> bool:
    """An intent's examples or an entity's entries: read with their intent or entity."""
    return isinstance(document, list) and ("_usersays_" in path.name or "_entries_" in path.name)


def is_agent_file(path: Path, document: Any) -> bool:
    return (
        path.name in AGENT_FILES
        and isinstance(document, dict)
        and (
            "supportedLanguages" in document
            or "language" in document
            or set(document) == {"version"}
        )
    )


def is_intent(document: Any) -> bool:
    return isinstance(document, dict) and "responses" in document and "name" in document


def is_entity(document: Any) -> bool:
    return isinstance(document, dict) and "isEnum" in document and "name" in document


def read_dialogflow(path: Path, document: dict[str, Any], language: str) -> TrainingData:
    """The intent or entity in `path` (whose JSON is `document`), with its examples or
    entries in `language`."""
    kind = "usersays" if is_intent(document) else "entries"
    beside = path.with_name(f"{path.stem}_{kind}_{language}.json")
    if not beside.is_file():
        what = "intent" if kind == "usersays" else "entity"
        warn(
            "P123",
            f"the Dialogflow {what} '{document['name']}' has no {kind} in '{language}' "
            f"({beside.name}): it is not trained on",
            Location(relative(path)),
            hint="read the export in a language it has: the config's `language:` (or "
            "`parlez data convert nlu --language`)",
        )
        return TrainingData()
    try:
        examples = json.loads(read_text_file(beside))
    except json.JSONDecodeError as error:
        raise SchemaError(
            f"the file is not valid JSON ({error.msg})",
            Location(relative(beside), error.lineno, error.colno),
        ) from None
    if kind == "usersays":
        return _intent(str(document["name"]), examples, relative(beside))
    return _entity(document, examples)


def _intent(name: str, examples: list[dict[str, Any]], shown: str) -> TrainingData:
    data = TrainingData()
    for example in examples:
        text = ""
        entities = []
        for part in example["data"]:
            words = str(part["text"])
            kind = part.get("alias", part.get("meta"))
            if kind is not None and kind != IGNORED_ENTITY:
                entities.append(Entity(len(text), len(text) + len(words), words, str(kind)))
            text += words
        data.examples.append(Example(text, name, entities, location=Location(shown)))
    return data


def _entity(entity: dict[str, Any], entries: list[dict[str, Any]]) -> TrainingData:
    name = str(entity["name"])
    data = TrainingData()
    synonyms = [str(s) for entry in entries for s in entry.get("synonyms") or []]
    if entity.get("isRegexp"):
        # its entries are patterns: no words to map to a value
        data.regex_features = [RegexFeature(name, pattern) for pattern in synonyms]
        return data
    for entry in entries:
        for synonym in entry.get("synonyms") or []:
            data.entity_synonyms[str(synonym)] = str(entry["value"])
    elements = [s for s in synonyms if "@" not in s]
    if elements:
        data.lookup_tables.append(LookupTable(name, elements))
    return data

"""Rasa's JSON NLU format (`{"rasa_nlu_data": {...}}`), read and written."""

from __future__ import annotations

import json
from typing import Any

from parlez.exceptions import Location, SchemaError
from parlez.training_data.example import Entity, Example, split_intent
from parlez.training_data.training_data import LookupTable, RegexFeature, TrainingData


def read_nlu_json(text: str, path: str | None = None) -> TrainingData:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(
            f"the file is not valid JSON ({error.msg})", Location(path, error.lineno, error.colno)
        ) from None
    if not isinstance(document, dict) or "rasa_nlu_data" not in document:
        raise SchemaError(
            "a JSON NLU file must have a top-level 'rasa_nlu_data' object",
            Location(path, 1, 1),
            hint='{"rasa_nlu_data": {"common_examples": [...]}}',
        )
    return read_nlu_document(document, path)


def read_nlu_document(document: dict[str, Any], path: str | None = None) -> TrainingData:
    """Rasa's JSON NLU data, parsed: `{"rasa_nlu_data": {...}}`."""
    try:
        return _read_body(document["rasa_nlu_data"] or {}, path)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # A list where an object belongs, an example without its keys: one clear error
        # naming the file rather than a traceback.
        raise SchemaError(
            f"the JSON NLU data is not in Rasa's shape ({type(error).__name__}: {error})",
            Location(path),
            hint='{"rasa_nlu_data": {"common_examples": [{"text": "hi", "intent": "greet"}]}}',
        ) from None


def _read_body(body: dict[str, Any], path: str | None) -> TrainingData:
    data = TrainingData()
    for example in body.get("common_examples", []) + body.get("intent_examples", []):
        if not isinstance(example.get("text"), str):
            raise SchemaError("every common example needs a 'text' string", Location(path))
        if example.get("intent") is not None and not isinstance(example["intent"], str):
            raise SchemaError("an example's 'intent' must be a string", Location(path))
        intent, response_key = (
            split_intent(example["intent"]) if example.get("intent") else (None, None)
        )
        entities = [Entity.from_dict(e) for e in example.get("entities", [])]
        data.examples.append(
            Example(
                example["text"],
                intent,
                entities,
                example.get("metadata"),
                response_key,
                location=Location(path) if path else None,
            )
        )
    for entry in body.get("entity_synonyms", []):
        for synonym in entry.get("synonyms", []):
            data.entity_synonyms[synonym] = entry["value"]
    for entry in body.get("regex_features", []):
        data.regex_features.append(RegexFeature(entry["name"], entry["pattern"]))
    for entry in body.get("lookup_tables", []):
        elements = entry.get("elements", [])
        data.lookup_tables.append(
            LookupTable(entry["name"], list(elements) if isinstance(elements, list) else [elements])
        )
    return data


def write_nlu_json(data: TrainingData) -> str:
    synonyms: dict[str, list[str]] = {}
    for text, value in data.entity_synonyms.items():
        synonyms.setdefault(value, []).append(text)
    body = {
        "common_examples": [
            {
                "text": m.text,
                "intent": m.full_intent,
                "entities": [e.to_dict() for e in m.entities],
                **({"metadata": m.metadata} if m.metadata else {}),
            }
            for m in data.examples
        ],
        "regex_features": [{"name": r.name, "pattern": r.pattern} for r in data.regex_features],
        "lookup_tables": [{"name": t.name, "elements": t.elements} for t in data.lookup_tables],
        "entity_synonyms": [{"value": v, "synonyms": s} for v, s in synonyms.items()],
    }
    return json.dumps({"rasa_nlu_data": body}, indent=2, ensure_ascii=False) + "\n"

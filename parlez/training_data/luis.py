"""A LUIS app's JSON export (`luis_schema_version`), read as NLU training data the way Rasa
reads it: each utterance an example, its entities (LUIS's `endPos` is inclusive) annotated,
its regular-expression entities regex features.

What Rasa also leaves out is said once per file instead of silently: sub-entities of machine-
learned entities (`children`) and a schema newer than the ones read here (7).
"""

from __future__ import annotations

from typing import Any

from parlez.diagnostics import warn
from parlez.exceptions import Location
from parlez.training_data.example import Entity, Example
from parlez.training_data.training_data import RegexFeature, TrainingData

#: the newest LUIS schema whose exports were checked (Rasa warns above it too)
NEWEST_SCHEMA = 7


def is_luis(document: Any) -> bool:
    return isinstance(document, dict) and "luis_schema_version" in document


def read_luis(document: dict[str, Any], path: str | None) -> TrainingData:
    version = str(document["luis_schema_version"])
    major = version.split(".")[0]
    if not major.isdigit() or int(major) > NEWEST_SCHEMA:
        warn(
            "P123",
            f"the LUIS export's schema version {version} is newer than {NEWEST_SCHEMA}.x: "
            "it is read as 7.x, which may leave parts of it out",
            Location(path),
            hint="check the converted examples (parlez data convert nlu)",
        )
    data = TrainingData()
    nested = 0
    for utterance in document.get("utterances") or []:
        text = str(utterance["text"])
        entities = []
        for found in utterance.get("entities") or []:
            start, end = int(found["startPos"]), int(found["endPos"]) + 1
            entities.append(
                Entity(start, end, text[start:end], str(found["entity"]), found.get("role"))
            )
            nested += len(found.get("children") or [])
        data.examples.append(
            Example(text, utterance.get("intent") or None, entities, location=Location(path))
        )
    if nested:
        warn(
            "P123",
            f"{nested} sub-entities of the LUIS export's machine-learned entities ('children') "
            "are not read: only the entities they belong to are annotated",
            Location(path),
            hint="annotate the parts as entities of their own, or with roles or groups",
        )
    for regex in document.get("regex_features") or []:
        if regex.get("activated", False):
            data.regex_features.append(RegexFeature(str(regex["name"]), str(regex["pattern"])))
    # LUIS exports its regular expressions as entities since its regex features went away.
    for regex in document.get("regex_entities") or []:
        data.regex_features.append(RegexFeature(str(regex["name"]), str(regex["regexPattern"])))
    return data

"""A Wit.ai app's utterances export (`{"utterances": [...]}`), read as NLU training data the
way Rasa reads it: an utterance without an intent is `out_of_scope` (Wit's way of saying
"none of them"), an entity named `location:from` is the entity `location` in the role `from`.
"""

from __future__ import annotations

from typing import Any

from parlez.exceptions import Location
from parlez.training_data.example import Entity, Example
from parlez.training_data.training_data import TrainingData

#: the intent of an utterance Wit.ai files under no intent
OUT_OF_SCOPE = "out_of_scope"


def is_wit(document: Any) -> bool:
    return isinstance(document, dict) and "utterances" in document


def read_wit(document: dict[str, Any], path: str | None) -> TrainingData:
    data = TrainingData()
    for utterance in document["utterances"]:
        found = utterance.get("entities")
        if found is None:  # as Rasa: an utterance without its entities list is not an example
            continue
        text = str(utterance["text"])
        entities = []
        for entity in found:
            name, _, role = str(entity["entity"]).rpartition(":")
            start, end = int(entity["start"]), int(entity["end"])
            entities.append(
                Entity(
                    start,
                    end,
                    entity.get("body", text[start:end]),
                    name or role,
                    role if name else None,
                )
            )
        data.examples.append(
            Example(
                text, utterance.get("intent") or OUT_OF_SCOPE, entities, location=Location(path)
            )
        )
    return data

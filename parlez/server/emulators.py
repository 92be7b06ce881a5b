"""`POST /model/parse?emulation_mode=...`: a parse result in the shape another NLU service
answers with (wit.ai, LUIS v3, Dialogflow ES), so that a client written for that service
reads parlez's answer unchanged, as Rasa's emulators do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

Parsed = dict[str, Any]


def _wit(parsed: Parsed) -> Parsed:
    """wit.ai's `GET /message`: entities grouped under `name:role`."""
    text = parsed.get("text") or ""
    entities: dict[str, list[dict[str, Any]]] = {}
    for entity in parsed.get("entities") or []:
        name = entity["entity"]
        role = entity.get("role") or name
        start, end = entity.get("start", 0), entity.get("end", 0)
        entities.setdefault(f"{name}:{role}", []).append(
            {
                "confidence": entity.get("confidence_entity") or 1,
                "name": name,
                "value": entity.get("value"),
                "body": text[start:end],  # the words, before a synonym replaced them
                "start": start,
                "end": end,
                "role": role,
                "entities": [],
            }
        )
    return {"text": text, "intents": [parsed.get("intent")], "entities": entities}


def _luis(parsed: Parsed) -> Parsed:
    """LUIS v3's `/predict`: intents by name with scores; entities by role, as LUIS v3
    names them, with their `$instance` details."""
    top = parsed.get("intent") or {}
    ranking = parsed.get("intent_ranking") or ([top] if top else [])
    intents = {i["name"]: {"score": i.get("confidence")} for i in ranking if i.get("name")}
    entities: dict[str, Any] = {"$instance": {}}
    for entity in parsed.get("entities") or []:
        key = entity.get("role") or entity["entity"]
        start, end = entity.get("start"), entity.get("end")
        entities[key] = [entity.get("value")]
        entities["$instance"][key] = [
            {
                "role": entity.get("role"),
                "type": entity["entity"],
                "text": entity.get("value"),
                "startIndex": start,
                "length": end - start if start is not None and end is not None else None,
                "score": entity.get("confidence"),
                "modelType": entity.get("extractor"),
            }
        ]
    text = parsed.get("text")
    return {
        "query": text,
        "prediction": {
            "normalizedQuery": text,
            "topIntent": top.get("name"),
            "intents": intents,
            "entities": entities,
        },
    }


def _dialogflow(parsed: Parsed) -> Parsed:
    """Dialogflow ES's `detectIntent` response: entity values as parameters."""
    top = parsed.get("intent") or {}
    parameters: dict[str, list[Any]] = {}
    for entity in parsed.get("entities") or []:
        parameters.setdefault(entity["entity"], []).append(entity.get("value"))
    return {
        "responseId": str(uuid.uuid1()),
        "queryResult": {
            "queryText": parsed.get("text"),
            "action": top.get("name"),
            "parameters": parameters,
            "fulfillmentText": "",
            "fulfillmentMessages": [],
            "outputContexts": [],
            "intent": {"name": top.get("name"), "displayName": top.get("name")},
            "intentDetectionConfidence": top.get("confidence"),
        },
    }


EMULATORS: dict[str, Callable[[Parsed], Parsed]] = {
    "wit": _wit,
    "luis": _luis,
    "dialogflow": _dialogflow,
}


def emulator(mode: str | None) -> Callable[[Parsed], Parsed] | None:
    """The shape for `emulation_mode` (any case); None for parlez's own. KeyError for a
    mode that is not one."""
    if not mode:
        return None
    return EMULATORS[mode.lower()]

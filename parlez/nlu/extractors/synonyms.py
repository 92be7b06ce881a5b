"""EntitySynonymMapper: extracted values mapped to their canonical value (NYC -> New York)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


@register_component("EntitySynonymMapper")
class EntitySynonymMapper(Component):
    needs = ("entities",)
    gives = ("entities",)

    def train(self, data: TrainingData, messages: Sequence[Message]) -> EntitySynonymMapper:
        synonyms = {**data.annotated_synonyms(), **data.entity_synonyms}
        self.synonyms_ = {text.lower(): value for text, value in synonyms.items()}
        return self

    def process(self, messages: Sequence[Message]) -> None:
        for message in messages:
            mapped = []
            for entity in message.entities:
                value = entity.get("value")
                canonical = self.synonyms_.get(value.lower()) if isinstance(value, str) else None
                if canonical is not None and canonical != value:
                    entity = {
                        **entity,
                        "value": canonical,
                        "processors": [*entity.get("processors", []), self.name],
                    }
                mapped.append(entity)
            message.entities = mapped

    def state(self) -> dict[str, Any]:
        return {"synonyms": self.synonyms_}

    def set_state(self, state: dict[str, Any]) -> None:
        self.synonyms_ = dict(state["synonyms"])

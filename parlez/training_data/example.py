"""One NLU training example and the entities annotated in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parlez.exceptions import Location

#: Rasa writes retrieval intents as `faq/ask_hours`: the intent and its response key.
RESPONSE_KEY_SEPARATOR = "/"


@dataclass(frozen=True)
class Entity:
    """An entity annotated in (or extracted from) a text; `end` is exclusive, as in Rasa."""

    start: int
    end: int
    value: Any
    entity: str
    role: str | None = None
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Rasa's entity dict: role and group appear only when set."""
        data: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "entity": self.entity,
        }
        if self.role is not None:
            data["role"] = self.role
        if self.group is not None:
            data["group"] = self.group
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entity:
        return cls(
            start=int(data["start"]),
            end=int(data["end"]),
            value=data.get("value"),
            entity=str(data["entity"]),
            role=data.get("role"),
            group=data.get("group"),
        )

    def labels(self) -> list[str]:
        """Names this entity is featurized under: its type, and type#role / type#group."""
        names = [self.entity]
        if self.role is not None:
            names.append(f"{self.entity}#{self.role}")
        if self.group is not None:
            names.append(f"{self.entity}#{self.group}")
        return names


@dataclass
class Example:
    """A training example: text with its intent and annotated entities.

    For a retrieval intent `faq/ask_hours`, `intent` is `faq` and `intent_response_key` is
    `faq/ask_hours`, matching how Rasa splits them.
    """

    text: str
    intent: str | None = None
    entities: list[Entity] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    intent_response_key: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)

    @property
    def full_intent(self) -> str | None:
        return self.intent_response_key or self.intent

    def to_dict(self) -> dict[str, Any]:
        """Rasa's JSON training-example shape."""
        data: dict[str, Any] = {"text": self.text}
        if self.full_intent is not None:
            data["intent"] = self.full_intent
        if self.entities:
            data["entities"] = [e.to_dict() for e in self.entities]
        if self.metadata:
            data["metadata"] = self.metadata
        return data


def split_intent(name: str) -> tuple[str, str | None]:
    """`faq/ask_hours` -> (`faq`, `faq/ask_hours`); `greet` -> (`greet`, None)."""
    if RESPONSE_KEY_SEPARATOR in name:
        return name.split(RESPONSE_KEY_SEPARATOR, 1)[0], name
    return name, None

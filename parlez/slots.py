"""Slots and their mappings, as declared under `slots:` in a Rasa 3.x domain."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from parlez.exceptions import DomainError, Location, SchemaError, did_you_mean
from parlez.io.schema import mapping_list, number
from parlez.io.yaml import where

MAPPING_TYPES = ("from_entity", "from_text", "from_intent", "from_trigger_intent", "custom")
_MAPPING_KEYS = {
    "from_entity": {"entity", "role", "group", "intent", "not_intent", "conditions"},
    "from_text": {"intent", "not_intent", "conditions"},
    "from_intent": {"value", "intent", "not_intent", "conditions"},
    "from_trigger_intent": {"value", "intent", "not_intent", "conditions"},
    "custom": {"action", "conditions"},
}
_REQUIRED_KEYS = {
    "from_entity": ("entity",),
    "from_intent": ("value",),
    "from_trigger_intent": ("value",),
}


def _names(value: Any) -> list[str]:
    """`intent: greet` and `intent: [greet, affirm]` both mean a list of names."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


@dataclass(frozen=True)
class MappingCondition:
    """Fill the slot only while `active_loop` is active (and `requested_slot` is asked)."""

    active_loop: str | None
    requested_slot: str | None = None


@dataclass(frozen=True)
class SlotMapping:
    type: str
    entity: str | None = None
    role: str | None = None
    group: str | None = None
    value: Any = None
    intent: tuple[str, ...] = ()
    not_intent: tuple[str, ...] = ()
    action: str | None = None
    conditions: tuple[MappingCondition, ...] = ()
    location: Location | None = field(default=None, compare=False, repr=False)

    def takes(self, entity: dict[str, Any]) -> bool:
        """Whether a `from_entity` mapping fills its slot from `entity`: its type, and its
        role and group where the mapping names them."""
        return (
            entity.get("entity") == self.entity
            and (self.role is None or entity.get("role") == self.role)
            and (self.group is None or entity.get("group") == self.group)
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for key in ("entity", "role", "group", "action"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.type in ("from_intent", "from_trigger_intent"):
            data["value"] = self.value
        if self.intent:
            data["intent"] = list(self.intent)
        if self.not_intent:
            data["not_intent"] = list(self.not_intent)
        if self.conditions:
            data["conditions"] = [
                {"active_loop": c.active_loop}
                | ({"requested_slot": c.requested_slot} if c.requested_slot else {})
                for c in self.conditions
            ]
        return data

    def intent_allowed(self, intent: str | None) -> bool:
        """Whether a message with `intent` may fill the slot through this mapping."""
        if self.intent and intent not in self.intent:
            return False
        return not (self.not_intent and intent in self.not_intent)


def read_mapping(raw: Any, slot: str, at: Location | None) -> SlotMapping:
    if not isinstance(raw, dict) or "type" not in raw:
        raise SchemaError(
            f"each mapping of slot '{slot}' must be a mapping with a 'type'",
            at,
            hint="- type: from_entity\n        entity: <entity>",
        )
    kind = raw["type"]
    if kind not in MAPPING_TYPES:
        hint = did_you_mean(str(kind), MAPPING_TYPES) or f"use one of {', '.join(MAPPING_TYPES)}"
        raise SchemaError(
            f"slot '{slot}' has a mapping of unknown type '{kind}'",
            where(raw, "type", value=True) or at,
            hint=hint,
        )
    allowed = _MAPPING_KEYS[kind] | {"type"}
    for key in raw:
        if key not in allowed:
            raise SchemaError(
                f"a '{kind}' mapping of slot '{slot}' does not take the key '{key}'",
                where(raw, key) or at,
                hint=did_you_mean(key, allowed) or f"allowed keys: {', '.join(sorted(allowed))}",
            )
    for key in _REQUIRED_KEYS.get(kind, ()):
        if key not in raw:
            raise SchemaError(
                f"the '{kind}' mapping of slot '{slot}' needs a '{key}'",
                where(raw) or at,
                hint=f"add '{key}: ...' to the mapping",
            )
    conditions = []
    raw_conditions = mapping_list(raw.get("conditions"), f"the conditions of slot '{slot}'", at)
    for index, cond in enumerate(raw_conditions):
        if not isinstance(cond, dict) or "active_loop" not in cond:
            raise SchemaError(
                f"a condition of slot '{slot}' needs an 'active_loop'",
                where(raw.get("conditions"), index) or at,
                hint="- active_loop: <form name>\n          requested_slot: <slot>",
            )
        conditions.append(MappingCondition(cond.get("active_loop"), cond.get("requested_slot")))
    return SlotMapping(
        type=kind,
        entity=raw.get("entity"),
        role=raw.get("role"),
        group=raw.get("group"),
        value=raw.get("value"),
        intent=tuple(_names(raw.get("intent"))),
        not_intent=tuple(_names(raw.get("not_intent"))),
        action=raw.get("action"),
        conditions=tuple(conditions),
        location=at,
    )


@dataclass
class Slot:
    """A slot: its type decides how it is featurized for the dialogue policies."""

    type_name = "any"

    name: str
    mappings: list[SlotMapping] = field(default_factory=list)
    initial_value: Any = None
    influence_conversation: bool = True
    location: Location | None = field(default=None, compare=False, repr=False)

    def feature_dimension(self) -> int:
        return 1

    def features(self, value: Any) -> list[float]:
        """Rasa's `as_feature()`: empty when the slot does not influence the conversation."""
        if not self.influence_conversation:
            return []
        return self._features(value)

    def _features(self, value: Any) -> list[float]:
        return [0.0 if value is None else 1.0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "initial_value": self.initial_value,
            "influence_conversation": self.influence_conversation,
            "mappings": [m.to_dict() for m in self.mappings],
        }


class TextSlot(Slot):
    type_name = "text"


class AnySlot(Slot):
    type_name = "any"

    def _features(self, value: Any) -> list[float]:
        return []


class BooleanSlot(Slot):
    type_name = "bool"

    def feature_dimension(self) -> int:
        return 2

    def _features(self, value: Any) -> list[float]:
        if value is None:
            return [0.0, 0.0]
        return [1.0, 1.0 if bool_from_any(value) else 0.0]


class ListSlot(Slot):
    type_name = "list"

    def _features(self, value: Any) -> list[float]:
        return [1.0 if value else 0.0]


@dataclass
class FloatSlot(Slot):
    type_name = "float"

    max_value: float = 1.0
    min_value: float = 0.0

    def _features(self, value: Any) -> list[float]:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return [0.0]
        if math.isnan(number):
            return [0.0]
        capped = max(self.min_value, min(self.max_value, number))
        span = abs(self.max_value - self.min_value) or 1.0
        return [(capped - self.min_value) / span]

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"max_value": self.max_value, "min_value": self.min_value}


@dataclass
class CategoricalSlot(Slot):
    type_name = "categorical"

    values: list[Any] = field(default_factory=list)

    def feature_dimension(self) -> int:
        return len(self.values)

    def _features(self, value: Any) -> list[float]:
        vector = [0.0] * len(self.values)
        if value is None:
            return vector
        wanted = str(value).lower()
        for index, known in enumerate(self.values):
            if str(known).lower() == wanted:
                vector[index] = 1.0
                return vector
        if "__other__" in self.values:
            vector[self.values.index("__other__")] = 1.0
        return vector

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"values": self.values}


SLOT_TYPES: dict[str, type[Slot]] = {
    "text": TextSlot,
    "bool": BooleanSlot,
    "categorical": CategoricalSlot,
    "float": FloatSlot,
    "list": ListSlot,
    "any": AnySlot,
}
_COMMON_KEYS = {"type", "influence_conversation", "initial_value", "mappings", "auto_fill"}
_TYPE_KEYS = {"float": {"max_value", "min_value"}, "categorical": {"values"}}


def bool_from_any(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "on")
    return bool(value)


def read_slot(name: str, raw: Any, at: Location | None) -> Slot:
    """A slot from its domain definition, with every Rasa type and key checked."""
    if not isinstance(raw, dict):
        raise SchemaError(f"slot '{name}' must be a mapping with a 'type'", at, hint="type: text")
    kind = raw.get("type")
    if kind is None:
        raise SchemaError(
            f"slot '{name}' has no 'type'", at, hint=f"use one of {', '.join(SLOT_TYPES)}"
        )
    if not isinstance(kind, str) or kind not in SLOT_TYPES:  # `type: [text]` is not hashable
        legacy = {"unfeaturized": "any (with influence_conversation: false)"}.get(str(kind))
        raise SchemaError(
            f"slot '{name}' has the unknown type '{kind}'",
            where(raw, "type", value=True) or at,
            hint=f"use {legacy}"
            if legacy
            else did_you_mean(str(kind), SLOT_TYPES) or f"use one of {', '.join(SLOT_TYPES)}",
        )
    allowed = _COMMON_KEYS | _TYPE_KEYS.get(kind, set())
    for key in raw:
        if key not in allowed:
            raise SchemaError(
                f"slot '{name}' of type '{kind}' does not take the key '{key}'",
                where(raw, key) or at,
                hint=did_you_mean(key, allowed) or f"allowed keys: {', '.join(sorted(allowed))}",
            )
    mappings_raw = raw.get("mappings")
    if mappings_raw is None:
        mappings_raw = []
    if not isinstance(mappings_raw, list):
        raise SchemaError(
            f"the mappings of slot '{name}' must be a list", where(raw, "mappings") or at
        )
    mappings = [
        read_mapping(m, name, where(mappings_raw, i) or at) for i, m in enumerate(mappings_raw)
    ]
    influence = raw.get("influence_conversation", kind != "any")
    if kind == "any" and influence:
        raise DomainError(
            f"slot '{name}' is of type 'any' and cannot influence the conversation",
            where(raw, "influence_conversation") or at,
            hint="set 'influence_conversation: false' or choose another slot type",
        )
    common: dict[str, Any] = {
        "name": name,
        "mappings": mappings,
        "initial_value": raw.get("initial_value"),
        "influence_conversation": bool(influence),
        "location": at,
    }
    if kind == "float":
        slot: Slot = FloatSlot(
            **common,
            max_value=number(raw.get("max_value", 1.0), f"max_value of slot '{name}'", at),
            min_value=number(raw.get("min_value", 0.0), f"min_value of slot '{name}'", at),
        )
        if slot.min_value > slot.max_value:  # type: ignore[attr-defined]
            raise DomainError(
                f"slot '{name}' has min_value above max_value", at, hint="swap the two values"
            )
        return slot
    if kind == "categorical":
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            raise SchemaError(
                f"categorical slot '{name}' needs a non-empty list of 'values'",
                where(raw, "values") or at,
                hint="values:\n      - first\n      - second",
            )
        values = [v if v is None or isinstance(v, str) else str(v) for v in values]
        values = [str(v) if v is not None else "null" for v in values]
        if "__other__" not in values:
            values.append("__other__")
        return CategoricalSlot(**common, values=values)
    return SLOT_TYPES[kind](**common)

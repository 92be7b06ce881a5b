"""Stories, rules and test stories in Rasa's YAML format, read into steps of events."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parlez.diagnostics import warn
from parlez.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from parlez.exceptions import Location, SchemaError, StoryError, did_you_mean
from parlez.io.yaml import YamlMap, where
from parlez.training_data import markup
from parlez.training_data.example import split_intent
from parlez.training_data.shortcut import read_shortcut

STEP_KEYS = {
    "intent",
    "user",
    "entities",
    "action",
    "bot",
    "active_loop",
    "slot_was_set",
    "checkpoint",
    "or",
    "metadata",
    "slot_was_not_set",
}
STORY_KEYS = {"story", "steps", "metadata"}
RULE_KEYS = {"rule", "steps", "condition", "conversation_start", "wait_for_user_input", "metadata"}
#: Rasa's key of a user step's full retrieval intent (`chitchat/ask_name`) in its intent
FULL_RETRIEVAL_INTENT = "full_retrieval_intent_name"
#: the top-level key that holds each kind of block
SECTIONS = {"story": "stories", "rule": "rules"}
#: what a story step's entity may say beside its name and value
LABELS = ("role", "group")
#: Rasa's stand-in value for `slot_was_set: [- name]` ("set to something").
FILLED = "filled"


@dataclass
class Step:
    """One line of a story: events that happen together, `or` alternatives, or a checkpoint."""

    events: list[Event] = field(default_factory=list)
    alternatives: list[Event] = field(default_factory=list)
    checkpoint: str | None = None
    #: a checkpoint's `slot_was_set`: a story starting there continues only the
    #: conversations whose slots have these values (Rasa's checkpoint conditions)
    conditions: dict[str, Any] = field(default_factory=dict)
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass
class StoryBlock:
    """A story, rule or test story as written (before checkpoints and `or`s are expanded)."""

    kind: str  # "story" or "rule"
    name: str
    steps: list[Step] = field(default_factory=list)
    condition: list[Event] = field(default_factory=list)
    conversation_start: bool = False
    wait_for_user_input: bool = True
    location: Location | None = field(default=None, compare=False, repr=False)

    @property
    def is_rule(self) -> bool:
        return self.kind == "rule"

    def all_events(self) -> list[tuple[Event, Location | None]]:
        found = [(e, self.location) for e in self.condition]
        for step in self.steps:
            found += [(e, step.location) for e in step.events + step.alternatives]
        return found


def _entities(raw: Any, at: Location | None) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SchemaError(
            "'entities' of a story step must be a list", at, hint="entities:\n  - city: Berlin"
        )
    found: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        here = where(raw, index) or at
        if isinstance(item, str):
            found.append({"entity": item, "value": ""})
        elif isinstance(item, dict) and "entity" in item:
            found.append(dict(item))
        elif isinstance(item, dict) and len(named := [k for k in item if k not in LABELS]) == 1:
            # `- city: Berlin` with, beside it, its `role:` and `group:` (as Rasa reads it)
            entity = {"entity": str(named[0]), "value": item[named[0]]}
            entity |= {key: item[key] for key in LABELS if item.get(key) is not None}
            found.append(entity)
        else:
            raise SchemaError(
                "each entity of a story step must be 'name' or 'name: value' "
                "(with 'role:' and 'group:' beside it)",
                here,
            )
    return found


def _user_event(step: YamlMap, at: Location | None) -> UserUttered:
    intent = step.get("intent")
    if isinstance(intent, str) and intent.startswith("/"):
        warn(
            "P152",
            f"the intent '{intent}' starts with '/', which a story does not need: "
            f"it is read as '{intent[1:]}'",
            step.where("intent", value=True) or at,
            hint=f"write '- intent: {intent[1:]}'",
        )
        intent = intent[1:]
    text = step.get("user")
    entities = _entities(step.get("entities"), step.where("entities"))
    if text is not None:
        plain, parsed = markup.parse(str(text).strip(), step.where("user", value=True))
        text = plain
        entities += [e.to_dict() for e in parsed]
        shortcut = read_shortcut(text) if text.startswith("/") else None
        if shortcut is not None:  # `user: /greet{"name": "Ana"}`: its entities, as Rasa's
            entities = shortcut.entities
    if intent is not None and not isinstance(intent, str):
        raise SchemaError(f"the intent of a story step must be a name, not {intent!r}", at)
    named: dict[str, Any] = {}
    if intent:
        # `chitchat/ask_name`: the classifier's intent is `chitchat`; the full name is what
        # the ResponseSelector must choose, as Rasa reads such a step.
        base, full = split_intent(intent)
        named = {"name": base, "confidence": 1.0}
        if full is not None:
            named[FULL_RETRIEVAL_INTENT] = full
    return UserUttered(text=text, intent=named, entities=entities)


def _slot_events(raw: Any, at: Location | None) -> list[Event]:
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise SchemaError("'slot_was_set' must be a list of '- slot: value'", at)
    events: list[Event] = []
    for index, item in enumerate(raw):
        here = where(raw, index) or at
        if isinstance(item, str):
            # `- slot_name` alone means "set to some value": Rasa featurizes it as set.
            events.append(SlotSet(item, FILLED))
        elif isinstance(item, dict):
            events += [SlotSet(str(k), v) for k, v in item.items()]
        else:
            raise SchemaError("each 'slot_was_set' item must be 'slot: value' or a slot name", here)
    return events


def _checkpoint_conditions(raw: Any, at: Location | None) -> dict[str, Any]:
    """The slot values a checkpoint's `slot_was_set` asks for; a slot named without a value
    is no condition, and is said (Rasa skips it with a warning too)."""
    if raw is None:
        return {}
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise SchemaError("a checkpoint's 'slot_was_set' must be a list of '- slot: value'", at)
    conditions: dict[str, Any] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict):
            conditions.update({str(k): v for k, v in item.items()})
            continue
        warn(
            "P156",
            f"the checkpoint's condition {item!r} has no value: it is left out",
            where(items, index) or at,
            hint=f"write '- {item}: <value>' (null for a slot that is not set)",
        )
    return conditions


def _step(raw: Any, owner: str, at: Location | None) -> Step:
    if not isinstance(raw, YamlMap):
        raise SchemaError(f"each step of '{owner}' must be a mapping such as '- intent: greet'", at)
    for key in raw:
        if key not in STEP_KEYS:
            raise SchemaError(
                f"unknown key '{key}' in a step of '{owner}'",
                raw.where(key),
                hint=did_you_mean(key, STEP_KEYS)
                or "steps use intent, user, action, bot, active_loop, slot_was_set, checkpoint or or",
            )
    if "intent" in raw or "user" in raw:
        if not raw.get("intent") and raw.get("user") is None:
            warn(
                "P153",
                f"a step of '{owner}' has no intent value: the step is skipped",
                raw.where("intent") or at,
                hint="name the intent the user expresses: '- intent: greet'",
            )
            return Step(location=at)
        return Step(events=[_user_event(raw, at)], location=at)
    if "action" in raw:
        name = raw["action"]
        if not isinstance(name, str) or not name:
            raise SchemaError(
                f"the action of a step in '{owner}' must be a name", raw.where("action", value=True)
            )
        return Step(events=[ActionExecuted(name)], location=at)
    if "bot" in raw:
        return Step(events=[ActionExecuted(action_text=str(raw["bot"]).strip())], location=at)
    if "active_loop" in raw:
        return Step(events=[ActiveLoop(raw["active_loop"])], location=at)
    # A checkpoint may hold a `slot_was_set` of its own: its conditions, not events.
    if "checkpoint" in raw:
        return Step(
            checkpoint=str(raw["checkpoint"]),
            conditions=_checkpoint_conditions(raw.get("slot_was_set"), raw.where("slot_was_set")),
            location=at,
        )
    if "slot_was_set" in raw:
        return Step(
            events=_slot_events(raw["slot_was_set"], raw.where("slot_was_set")), location=at
        )
    if "slot_was_not_set" in raw:
        return Step(location=at)  # a rule-only guard; it changes no state when replayed
    if "or" in raw:
        options = raw["or"]
        if not isinstance(options, list) or not options:
            raise SchemaError(f"'or' in '{owner}' must list alternative steps", raw.where("or"))
        alternatives: list[Event] = []
        for index, option in enumerate(options):
            inner = _step(option, owner, where(options, index) or at)
            if inner.checkpoint or len(inner.events) != 1:
                if "slot_was_set" in option:
                    alternatives += inner.events
                    continue
                raise StoryError(
                    f"'or' in '{owner}' may hold only intents and slot events",
                    where(options, index),
                )
            alternatives.append(inner.events[0])
        return Step(alternatives=alternatives, location=at)
    raise SchemaError(
        f"a step of '{owner}' is empty",
        at,
        hint="e.g. '- intent: greet' or '- action: utter_greet'",
    )


def _read_block(raw: Any, kind: str, at: Location | None) -> StoryBlock:
    allowed = STORY_KEYS if kind == "story" else RULE_KEYS
    if not isinstance(raw, YamlMap) or kind not in raw:
        raise SchemaError(
            f"each item under '{SECTIONS[kind]}' must start with '- {kind}: <name>'", at
        )
    name = str(raw[kind])
    for key in raw:
        if key not in allowed:
            raise SchemaError(
                f"unknown key '{key}' in the {kind} '{name}'",
                raw.where(key),
                hint=did_you_mean(key, allowed) or f"a {kind} takes {', '.join(sorted(allowed))}",
            )
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list):
        raise SchemaError(
            f"the {kind} '{name}' has no 'steps' list",
            raw.where(),
            hint="steps:\n    - intent: greet",
        )
    steps = [_step(s, name, where(steps_raw, i)) for i, s in enumerate(steps_raw)]
    condition: list[Event] = []
    if kind == "rule":
        cond_raw = raw.get("condition") or []
        for index, item in enumerate(cond_raw):
            step = _step(item, name, where(cond_raw, index))
            condition += step.events
    return StoryBlock(
        kind=kind,
        name=name,
        steps=steps,
        condition=condition,
        conversation_start=bool(raw.get("conversation_start", False)),
        wait_for_user_input=bool(raw.get("wait_for_user_input", True)),
        location=raw.where(kind),
    )


def read_story_section(items: Any, kind: str, source: Path | None = None) -> list[StoryBlock]:
    """Story blocks from the value of a `stories:` (kind "story") or `rules:` key. An item
    that is not a story there (a `- rule:` under `stories:`) is skipped with a warning, as
    Rasa skips it (silently)."""
    section = SECTIONS[kind]
    if items is None:
        return []
    if not isinstance(items, list):
        raise SchemaError(f"'{section}' must be a list", Location(str(source) if source else None))
    blocks = []
    for index, item in enumerate(items):
        at = where(items, index) or Location(str(source) if source else None)
        if not isinstance(item, YamlMap) or kind not in item:
            other = "rule" if kind == "story" else "story"
            misplaced = isinstance(item, YamlMap) and other in item
            warn(
                "P154",
                f"a '{other}' under '{section}:' is skipped"
                if misplaced
                else f"an item under '{section}:' that does not start with '- {kind}:' is skipped",
                at,
                hint=f"move it under '{SECTIONS[other]}:'"
                if misplaced
                else f"start it with '- {kind}: <name>'",
            )
            continue
        blocks.append(_read_block(item, kind, at))
    return blocks

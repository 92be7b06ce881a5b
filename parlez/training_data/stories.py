"""Stories, rules and test stories in Rasa's YAML format, read into steps of events."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parlez.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from parlez.exceptions import Location, SchemaError, StoryError, did_you_mean
from parlez.io.yaml import YamlMap, where
from parlez.training_data import markup

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
#: Rasa's stand-in value for `slot_was_set: [- name]` ("set to something").
FILLED = "filled"


@dataclass
class Step:
    """One line of a story: events that happen together, `or` alternatives, or a checkpoint."""

    events: list[Event] = field(default_factory=list)
    alternatives: list[Event] = field(default_factory=list)
    checkpoint: str | None = None
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
        elif isinstance(item, dict) and len(item) == 1:
            ((name, value),) = item.items()
            found.append({"entity": str(name), "value": value})
        else:
            raise SchemaError("each entity of a story step must be 'name' or 'name: value'", here)
    return found


def _user_event(step: YamlMap, at: Location | None) -> UserUttered:
    intent = step.get("intent")
    text = step.get("user")
    entities = _entities(step.get("entities"), step.where("entities"))
    if text is not None:
        plain, parsed = markup.parse(str(text).strip(), step.where("user", value=True))
        text = plain
        entities += [e.to_dict() for e in parsed]
    if intent is not None and not isinstance(intent, str):
        raise SchemaError(f"the intent of a story step must be a name, not {intent!r}", at)
    return UserUttered(
        text=text,
        intent={"name": intent, "confidence": 1.0} if intent else {},
        entities=entities,
    )


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
    if "slot_was_set" in raw:
        return Step(
            events=_slot_events(raw["slot_was_set"], raw.where("slot_was_set")), location=at
        )
    if "slot_was_not_set" in raw:
        return Step(location=at)  # a rule-only guard; it changes no state when replayed
    if "checkpoint" in raw:
        return Step(checkpoint=str(raw["checkpoint"]), location=at)
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
        raise SchemaError(f"each item under '{kind}s' must start with '- {kind}: <name>'", at)
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
    """Story blocks from the value of a `stories:` (kind "story") or `rules:` key."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise SchemaError(f"'{kind}s' must be a list", Location(str(source) if source else None))
    return [_read_block(item, kind, where(items, index)) for index, item in enumerate(items)]

"""Stories and rules as the event sequences that dialogue policies learn from."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from parlez.core.states import RULE_SNIPPET_ACTION, SHOULD_NOT_BE_SET
from parlez.domain import Domain
from parlez.events import ACTION_LISTEN, ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from parlez.exceptions import Location
from parlez.slots import ListSlot
from parlez.tracker import DialogueStateTracker
from parlez.training_data.stories import StoryBlock
from parlez.training_data.story_graph import _with_listens, conversations


@dataclass
class TrainingTracker:
    """One story or rule path: its events and where it was written."""

    name: str
    events: list[Event]
    is_rule: bool = False
    location: Location | None = None
    is_augmented: bool = False
    conversation_start: bool = False
    #: for rules: where each action step was written, in order of the action events
    action_locations: list[Location | None] = field(default_factory=list)

    def tracker(self, domain: Domain) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(
            self.name, with_entity_slots(self.events, domain), domain.all_slots.values()
        )


def with_entity_slots(events: Sequence[Event], domain: Domain) -> list[Event]:
    """The events with, after each user message, the slots its entities fill: what
    `action_extract_slots` sets when the assistant runs, so that the policies learn from the
    states they meet then. Rasa's training data has them too (its stories' "explicit
    events"): a `from_entity` mapping without conditions whose entity, role and group the
    message has, and whose intents allow the message's."""
    found: list[Event] = []
    for event in events:
        found.append(event)
        if isinstance(event, UserUttered) and event.entities:
            found += _entity_slots(event, domain)
    return found


def _entity_slots(message: UserUttered, domain: Domain) -> list[Event]:
    filled: list[Event] = []
    for slot in domain.slots.values():
        values = [
            entity.get("value")
            for mapping in slot.mappings
            if mapping.type == "from_entity"
            and not mapping.conditions
            and (not mapping.intent or message.intent_name in mapping.intent)
            and message.intent_name not in mapping.not_intent
            for entity in message.entities
            if mapping.takes(entity)
        ]
        if values:
            # the first value, as `action_extract_slots` takes it (Rasa's takes the last)
            filled.append(SlotSet(slot.name, values if isinstance(slot, ListSlot) else values[0]))
    return filled


def story_trackers(
    stories: Sequence[StoryBlock], domain: Domain | None = None
) -> list[TrainingTracker]:
    """Every conversation the stories describe; with the `domain`, a checkpoint's slot
    conditions see the slots the entities before it fill, as the policies will."""
    filled = partial(with_entity_slots, domain=domain) if domain else None
    return [
        TrainingTracker(
            " > ".join(c.story_names), c.events, location=_location(stories, c.story_names)
        )
        for c in conversations(list(stories), explicit=filled)
    ]


def _location(blocks: Sequence[StoryBlock], names: list[str]) -> Location | None:
    for block in blocks:
        if names and block.name == names[0]:
            return block.location
    return None


def rule_trackers(rules: Sequence[StoryBlock]) -> list[TrainingTracker]:
    """Each rule (each `or` alternative) as events: the condition, `...` unless the rule is
    for the start of a conversation, the steps, and a final listen unless it says not to wait."""
    found: list[TrainingTracker] = []
    for rule in rules:
        condition = [_condition_event(e) for e in rule.condition]
        paths: list[tuple[list[Event], list[Location | None]]] = [([], [])]
        for step in rule.steps:
            if step.checkpoint is not None:
                continue
            options = [[alt] for alt in step.alternatives] or [step.events]
            paths = [
                (events + option, where + [step.location] * len(option))
                for events, where in paths
                for option in options
            ]
        for steps, step_locations in paths:
            steps = [_must_not_be_set(e) for e in steps]
            body = _with_listens(steps, final_listen=rule.wait_for_user_input)
            prefix: list[Event] = (
                [] if rule.conversation_start else [ActionExecuted(RULE_SNIPPET_ACTION)]
            )
            events = condition + prefix + body
            found.append(
                TrainingTracker(
                    rule.name,
                    events,
                    is_rule=True,
                    location=rule.location,
                    conversation_start=rule.conversation_start,
                    action_locations=_action_locations(body, steps, step_locations, rule.location),
                )
            )
    return found


def _must_not_be_set(event: Event) -> Event:
    """In rules, `active_loop: null` in a condition and a slot set to null mean "not set"."""
    if isinstance(event, SlotSet) and event.value is None:
        return SlotSet(event.key, SHOULD_NOT_BE_SET)
    return event


def _condition_event(event: Event) -> Event:
    if isinstance(event, ActiveLoop) and event.name is None:
        return ActiveLoop(SHOULD_NOT_BE_SET)
    return _must_not_be_set(event)


def _action_locations(
    body: list[Event], steps: list[Event], where: list[Location | None], rule: Location | None
) -> list[Location | None]:
    located = {id(e): w for e, w in zip(steps, where, strict=True)}
    return [located.get(id(e), rule) for e in body if isinstance(e, ActionExecuted)]


def augmented(
    stories: Sequence[TrainingTracker], factor: int, seed: int = 42
) -> list[TrainingTracker]:
    """Rasa's story augmentation: stories that end waiting for the user glued together at
    random, so that a policy learns that a new topic may start after any finished one."""
    complete = [t for t in stories if _ends_listening(t.events)]
    if factor <= 0 or len(complete) < 2:
        return []
    rng = random.Random(seed)
    glued: list[TrainingTracker] = []
    for _ in range(min(factor * len(complete), 2000)):
        first, second = rng.sample(complete, 2)
        rest = second.events[1:] if _is_listen(second.events[0]) else second.events
        events = first.events + rest
        glued.append(TrainingTracker(f"{first.name} + {second.name}", events, is_augmented=True))
    return glued


def _ends_listening(events: list[Event]) -> bool:
    return bool(events) and _is_listen(events[-1])


def _is_listen(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN

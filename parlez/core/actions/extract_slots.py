"""`action_extract_slots`: Rasa 3's slot filling from each user message, by the slots' mappings.

Runs after every user message. A mapping fills its slot when its conditions (active form and
requested slot) hold and the message's intent is wanted (`intent`, `not_intent`, and the active
form's `ignored_intents`); `custom` mappings run their action.
"""

from __future__ import annotations

import logging
from typing import Any

from parlez.core.actions.action import Action, ActionContext
from parlez.domain import REQUESTED_SLOT, Domain
from parlez.events import BotUttered, Event, SlotSet
from parlez.slots import ListSlot, Slot, SlotMapping
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

ACTION_EXTRACT_SLOTS = "action_extract_slots"
ACTION_VALIDATE_SLOT_MAPPINGS = "action_validate_slot_mappings"


def conditions_hold(mapping: SlotMapping, tracker: DialogueStateTracker, slot: str) -> bool:
    if not mapping.conditions:
        return True
    if tracker.active_loop.get("rejected") and tracker.get_slot(REQUESTED_SLOT) == slot:
        return False
    for condition in mapping.conditions:
        if condition.active_loop and condition.active_loop == tracker.active_loop_name:
            if not condition.requested_slot:
                return True
            if condition.requested_slot == tracker.get_slot(REQUESTED_SLOT):
                return True
        if condition.active_loop is None and tracker.active_loop_name is None:
            return True
    return False


def intent_wanted(mapping: SlotMapping, tracker: DialogueStateTracker, domain: Domain) -> bool:
    intent = tracker.latest_message.intent_name if tracker.latest_message else None
    not_intents = set(mapping.not_intent)
    loop = tracker.active_loop_name
    if loop and loop in domain.forms:
        applies = not mapping.conditions or any(c.active_loop == loop for c in mapping.conditions)
        if applies:
            not_intents |= set(domain.forms[loop].ignored_intents)
    if mapping.intent:
        return intent in mapping.intent
    return intent not in not_intents


def entity_values(mapping: SlotMapping, tracker: DialogueStateTracker) -> list[Any]:
    message = tracker.latest_message
    if message is None:
        return []
    return [e.get("value") for e in message.entities if mapping.takes(e)]


def mapped_value(
    slot: Slot, mapping: SlotMapping, tracker: DialogueStateTracker, domain: Domain
) -> tuple[bool, Any]:
    """(whether the mapping applies to the latest message, the value it gives)."""
    if mapping.type in ("custom", "from_trigger_intent"):
        return False, None
    if not conditions_hold(mapping, tracker, slot.name) or not intent_wanted(
        mapping, tracker, domain
    ):
        return False, None
    message = tracker.latest_message
    if mapping.type == "from_entity":
        values = entity_values(mapping, tracker)
        if not values:
            return False, None
        return True, values if isinstance(slot, ListSlot) else values[0]
    if mapping.type == "from_intent":
        return True, mapping.value
    if mapping.type == "from_text":
        if message is None or message.text is None:
            return False, None
        return True, message.text
    return False, None


class ActionExtractSlots(Action):
    def name(self) -> str:
        return ACTION_EXTRACT_SLOTS

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        events: list[Event] = []
        custom_actions: list[str] = []
        for slot in domain.slots.values():
            for mapping in slot.mappings:
                if mapping.type == "custom":
                    wanted = mapping.action and mapping.action not in custom_actions
                    if wanted and conditions_hold(mapping, tracker, slot.name):
                        custom_actions.append(str(mapping.action))
                    continue
                applies, value = mapped_value(slot, mapping, tracker, domain)
                if applies:
                    if value is not None or tracker.get_slot(slot.name) is not None:
                        events.append(SlotSet(slot.name, value))
                    break
        tracker = tracker.copy()  # custom mappings see the slots filled so far
        for event in events:
            tracker.update(event)
        for action in custom_actions:
            events += await self._run_custom(action, context, tracker, domain)
        if ACTION_VALIDATE_SLOT_MAPPINGS in domain.user_actions and not tracker.active_loop_name:
            events += await self._run_custom(
                ACTION_VALIDATE_SLOT_MAPPINGS, context, tracker, domain
            )
        return events

    async def _run_custom(
        self, name: str, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        found = await context.custom_action(name).run(context, tracker, domain)
        kept: list[Event] = [e for e in found if isinstance(e, (SlotSet, BotUttered))]
        for event in kept:
            if isinstance(event, SlotSet):
                tracker.update(event)
        return kept

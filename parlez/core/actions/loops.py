"""Loops: forms, which ask for slots until they are filled, and the two-stage fallback.

A loop runs as Rasa's LoopAction: activate (the first time), do one step, and deactivate
when done. A form rejects its turn (`ActionExecutionRejected`) when it asked for a slot and
the user's answer filled none, so that rules and stories can handle the interruption.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from parlez.core.actions.action import Action, ActionContext, utter
from parlez.core.actions.extract_slots import ActionExtractSlots, conditions_hold
from parlez.domain import REQUESTED_SLOT, Domain
from parlez.events import (
    ACTION_LISTEN,
    ActionExecutionRejected,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from parlez.tracker import DialogueStateTracker


class LoopAction(Action, ABC):
    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        events: list[Event] = []
        if tracker.active_loop_name != self.name():
            events.append(ActiveLoop(self.name()))
            events += await self.activate(context, tracker, domain)
        if not self.is_done(tracker, events):
            events += await self.do(context, tracker, domain, events)
        if self.is_done(tracker, events):
            events.append(ActiveLoop(None))
            events += await self.deactivate(context, tracker, domain)
        return events

    async def activate(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return []

    @abstractmethod
    async def do(
        self,
        context: ActionContext,
        tracker: DialogueStateTracker,
        domain: Domain,
        events_so_far: list[Event],
    ) -> list[Event]:
        """One step of the loop: the events it causes this turn."""

    @abstractmethod
    def is_done(self, tracker: DialogueStateTracker, events_so_far: list[Event]) -> bool:
        """Whether the loop ends after the events so far."""

    async def deactivate(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        return []


def with_events(tracker: DialogueStateTracker, events: list[Event]) -> DialogueStateTracker:
    copied = tracker.copy()
    for event in events:
        copied.update(event)
    return copied


class FormAction(LoopAction):
    def __init__(self, form: str) -> None:
        self.form = form

    def name(self) -> str:
        return self.form

    def required_slots(self, domain: Domain) -> list[str]:
        form = domain.forms.get(self.form)
        return list(form.required_slots) if form else []

    # ---- the loop -------------------------------------------------------------------------------

    async def activate(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        """Fill what the message that started the form gives (trigger intents, slots with
        conditions on this form), then validate the required slots already filled."""
        active = with_events(tracker, [ActiveLoop(self.form)])
        events = await ActionExtractSlots().run(context, active, domain)
        intent = tracker.latest_message.intent_name if tracker.latest_message else None
        for name in self.required_slots(domain):
            slot = domain.slots.get(name)
            for mapping in slot.mappings if slot else []:
                if (
                    mapping.type == "from_trigger_intent"
                    and mapping.intent_allowed(intent)
                    and (not mapping.intent or intent in mapping.intent)
                    and conditions_hold(mapping, active, name)
                ):
                    events.append(SlotSet(name, mapping.value))
                    break
        filled = with_events(tracker, events)
        prefilled = {
            name: filled.get_slot(name)
            for name in self.required_slots(domain)
            if filled.get_slot(name) is not None
        }
        if not prefilled or f"validate_{self.form}" not in domain.user_actions:
            return events
        return events + await self.validate_slots(prefilled, context, filled, domain)

    async def do(
        self,
        context: ActionContext,
        tracker: DialogueStateTracker,
        domain: Domain,
        events_so_far: list[Event],
    ) -> list[Event]:
        just_activated = any(
            isinstance(e, ActiveLoop) and e.name == self.name() for e in events_so_far
        )
        needs_validation = not tracker.active_loop or (
            tracker.latest_action_name == ACTION_LISTEN
            and tracker.active_loop.get("validate", True)
        )
        if just_activated:
            # Activation validated what this message filled; Rasa validates it a second
            # time here, and the validator's messages ("that time is taken") come twice.
            events = []
        elif needs_validation:
            events = await self.validate(context, tracker, domain)
        else:
            # Back from an interruption: nothing new to validate, ask for the next slot.
            events = await self.validate_slots({}, context, tracker, domain)
        if any(isinstance(e, ActionExecutionRejected) for e in events):
            return events
        return events + await self.request_next_slot(
            context, tracker, domain, events_so_far + events
        )

    def is_done(self, tracker: DialogueStateTracker, events_so_far: list[Event]) -> bool:
        if any(isinstance(e, ActionExecutionRejected) for e in events_so_far):
            return False
        last_request = next(
            (
                e
                for e in reversed(events_so_far)
                if isinstance(e, SlotSet) and e.key == REQUESTED_SLOT
            ),
            None,
        )
        last_loop = next((e for e in reversed(events_so_far) if isinstance(e, ActiveLoop)), None)
        return (last_request is not None and last_request.value is None) or (
            last_loop is not None and last_loop.name is None
        )

    # ---- validation -----------------------------------------------------------------------------

    async def validate(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        candidates = slots_set_this_turn(tracker)
        events = await self.validate_slots(candidates, context, tracker, domain)
        requested = tracker.get_slot(REQUESTED_SLOT)
        validated = any(isinstance(e, SlotSet) and e.key != REQUESTED_SLOT for e in events)
        rejected = any(isinstance(e, ActionExecutionRejected) for e in events)
        # A validator that ends the form itself (`ActiveLoop(None)`) has dealt with the answer.
        ended = any(isinstance(e, ActiveLoop) and e.name is None for e in events)
        if requested and tracker.active_loop and not (validated or rejected or ended):
            # Nothing the form asked for was in the answer: let the policies handle it.
            return [ActionExecutionRejected(self.form)]
        return events

    async def validate_slots(
        self,
        candidates: dict[str, Any],
        context: ActionContext,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> list[Event]:
        """The slot events after validation by `validate_<form>` when the domain has it."""
        events: list[Event] = [SlotSet(name, value) for name, value in candidates.items()]
        validator = f"validate_{self.form}"
        if validator not in domain.user_actions:
            return events
        validated = await context.custom_action(validator).call(
            context, with_events(tracker, events), domain
        )
        if validated is None:
            # Logged already; the form goes on with the values as extracted.
            return events
        return validated

    # ---- asking -----------------------------------------------------------------------------------

    async def request_next_slot(
        self,
        context: ActionContext,
        tracker: DialogueStateTracker,
        domain: Domain,
        events_so_far: list[Event],
    ) -> list[Event]:
        if self.is_done(tracker, events_so_far):
            return [SlotSet(REQUESTED_SLOT, None)]
        current = with_events(tracker, events_so_far)
        asked = next(
            (e.value for e in events_so_far if isinstance(e, SlotSet) and e.key == REQUESTED_SLOT),
            None,
        )
        events: list[Event] = []
        if not asked:
            asked = next(
                (s for s in self.required_slots(domain) if current.get_slot(s) is None), None
            )
            events.append(SlotSet(REQUESTED_SLOT, asked))
        if not asked:
            return [SlotSet(REQUESTED_SLOT, None)]
        current = with_events(current, events)
        return events + await self.ask_for_slot(str(asked), context, current, domain)

    async def ask_for_slot(
        self, slot: str, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        for name in (f"action_ask_{self.form}_{slot}", f"action_ask_{slot}"):
            if name in domain.user_actions:
                return await context.custom_action(name).run(context, tracker, domain)
        for name in (f"utter_ask_{self.form}_{slot}", f"utter_ask_{slot}"):
            if name in domain.responses:
                return await utter(name, context, tracker)
        return []


def slots_set_this_turn(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Slot values set since the latest user message (by `action_extract_slots`)."""
    found: dict[str, Any] = {}
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, SlotSet) and event.key != REQUESTED_SLOT and event.key not in found:
            found[event.key] = event.value
    return dict(reversed(list(found.items())))


# ---- two-stage fallback ------------------------------------------------------------------------

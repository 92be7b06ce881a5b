"""DialogueStateTracker: a conversation's state, derived from its events alone.

The tracker never edits the past: `update()` appends an event and applies it, and every
derived view (`applied_events`, `prior_trackers`, `past_states`) is recomputed from the event
list, exactly as Rasa defines them, so a stored conversation replays to the same state.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
    events_from_dicts,
)
from parlez.slots import Slot

if TYPE_CHECKING:
    from parlez.domain import Domain

ACTION_SESSION_START = "action_session_start"


class DialogueStateTracker:
    def __init__(
        self,
        sender_id: str,
        slots: Iterable[Slot] = (),
    ) -> None:
        self.sender_id = sender_id
        #: how many of `events` a tracker store already holds (None: unknown, ask the store)
        self.persisted_events: int | None = None
        self._slot_defs = {slot.name: slot for slot in slots}
        self.events: list[Event] = []
        self._reset()

    @classmethod
    def from_events(
        cls, sender_id: str, events: Iterable[Event], slots: Iterable[Slot] = ()
    ) -> DialogueStateTracker:
        tracker = cls(sender_id, slots)
        for event in events:
            tracker.update(event)
        return tracker

    @classmethod
    def from_dict(
        cls, sender_id: str, events: list[dict[str, Any]], slots: Iterable[Slot] = ()
    ) -> DialogueStateTracker:
        return cls.from_events(sender_id, events_from_dicts(events), slots)

    @classmethod
    def for_domain(cls, sender_id: str, domain: Domain) -> DialogueStateTracker:
        return cls(sender_id, domain.all_slots.values())

    def slot_definitions(self) -> list[Slot]:
        return list(self._slot_defs.values())

    def init_copy(self) -> DialogueStateTracker:
        """An empty tracker with the same sender and slot definitions."""
        return DialogueStateTracker(self.sender_id, self._slot_defs.values())

    def copy(self) -> DialogueStateTracker:
        """An independent tracker in the same state (events are immutable and shared)."""
        copied = copy.copy(self)
        copied.events = list(self.events)
        copied.slots = dict(self.slots)
        copied.active_loop = dict(self.active_loop)
        copied.latest_action = dict(self.latest_action) if self.latest_action else None
        return copied

    # ---- state -------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.slots: dict[str, Any] = {}
        self._reset_slots()
        self.latest_message: UserUttered | None = UserUttered()
        self.latest_bot_utterance: BotUttered | None = None
        self.latest_action: dict[str, str] | None = None
        self.followup_action: str | None = ACTION_LISTEN
        self.active_loop: dict[str, Any] = {}
        self._paused = False

    def _reset_slots(self) -> None:
        self.slots = {name: copy.deepcopy(s.initial_value) for name, s in self._slot_defs.items()}

    def is_paused(self) -> bool:
        return self._paused

    @property
    def active_loop_name(self) -> str | None:
        name = self.active_loop.get("name")
        return name if isinstance(name, str) else None

    @property
    def latest_action_name(self) -> str | None:
        return (self.latest_action or {}).get("action_name")

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)

    # ---- events ------------------------------------------------------------------------------

    def update(self, event: Event) -> None:
        """Append `event` and apply it; a few events rebuild the state from the whole history."""
        # Never trimmed: stores save the events past `persisted_events`, append-only.
        self.events.append(event)
        self._apply(event)

    def _apply(self, event: Event) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            # Legacy subclasses (`form`, `form_validation`) act as their parents.
            handler = next((h for k, h in _HANDLERS.items() if isinstance(event, k)), None)
        if handler is not None:
            handler(self, event)

    def _on_user(self, event: UserUttered) -> None:
        self.latest_message = event
        self.followup_action = None

    def _on_bot(self, event: BotUttered) -> None:
        self.latest_bot_utterance = event

    def _on_action(self, event: ActionExecuted) -> None:
        self.latest_action = event.as_sub_state()
        if self.active_loop_name and self.active_loop_name == event.action_name:
            self.active_loop["validate"] = True
            self.active_loop["rejected"] = False
        self.followup_action = None

    def _on_slot(self, event: SlotSet) -> None:
        self.slots[event.key] = event.value

    def _on_restart(self, event: Restarted) -> None:
        self._reset()
        self.followup_action = ACTION_SESSION_START

    def _on_followup(self, event: FollowupAction) -> None:
        self.followup_action = event.action_name

    def _on_pause(self, event: ConversationPaused) -> None:
        self._paused = True

    def _on_resume(self, event: ConversationResumed) -> None:
        self._paused = False

    def _on_loop_interrupted(self, event: LoopInterrupted) -> None:
        if self.active_loop:
            self.active_loop["validate"] = not event.is_interrupted

    def _on_rejected(self, event: ActionExecutionRejected) -> None:
        if self.active_loop_name == event.action_name:
            self.active_loop["rejected"] = True

    def _on_entities(self, event: EntitiesAdded) -> None:
        # Entities (and featurization) belong to the user message the bot is answering.
        if self.latest_action_name == ACTION_LISTEN and self.latest_message is not None:
            entities = list(self.latest_message.entities)
            entities += [e for e in event.entities if e not in entities]
            self.latest_message = dataclasses.replace(self.latest_message, entities=entities)

    def _on_featurization(self, event: DefinePrevUserUtteredFeaturization) -> None:
        if self.latest_action_name == ACTION_LISTEN and self.latest_message is not None:
            self.latest_message = dataclasses.replace(
                self.latest_message, use_text_for_featurization=event.use_text_for_featurization
            )

    def _change_loop_to(self, name: str | None) -> None:
        if name is None:
            self.active_loop = {}
            return
        trigger = self.latest_message.parse_data if self.latest_message else {}
        self.active_loop = {
            "name": name,
            "validate": True,
            "rejected": False,
            "trigger_message": trigger,
        }

    def _replay(self) -> None:
        """Rebuild the state from the applied events (after a rewind or undo)."""
        self._reset()
        for event in self.applied_events():
            self._apply(event)

    # ---- derived views -----------------------------------------------------------------------

    def applied_events(self) -> list[Event]:
        """The events that still count: after the last restart or session start, minus the
        ones that rewinds and undos took back, with repeated form turns folded into one."""
        loop_names = {e.name for e in self.events if isinstance(e, ActiveLoop) and e.name}
        applied: list[Event] = []
        for event in self.events:
            if isinstance(event, (Restarted, SessionStarted)):
                applied = []
            elif isinstance(event, ActionReverted):
                _undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                _undo_till_previous(UserUttered, applied)
                _undo_till_previous(ActionExecuted, applied)
            elif (
                isinstance(event, ActionExecuted)
                and event.action_name in loop_names
                and not _first_loop_execution_or_unhappy_path(event.action_name, applied)
            ):
                _undo_till_previous_loop_execution(event.action_name, applied)
                applied.append(event)
            else:
                applied.append(event)
        return applied

    def prior_trackers(self) -> Iterator[DialogueStateTracker]:
        """The tracker as it was before each action, then as it is now."""
        tracker = self.init_copy()
        for event in self.applied_events():
            if isinstance(event, ActionExecuted):
                yield tracker
            tracker.update(event)
        yield tracker

    def past_states(self, domain: Domain) -> list[dict[str, dict[str, Any]]]:
        return domain.states_for_tracker_history(self)

    def latest_input_channel(self) -> str | None:
        for event in reversed(self.events):
            if isinstance(event, UserUttered):
                return event.input_channel
        return None

    def latest_input_time(self) -> float | None:
        """When the customer last wrote (a Unix time), or None."""
        for event in reversed(self.events):
            if isinstance(event, UserUttered):
                return event.timestamp
        return None

    def latest_input_metadata(self) -> dict[str, Any]:
        """The metadata of the customer's latest message (where it came from, on channels
        that say so); empty if none."""
        for event in reversed(self.events):
            if isinstance(event, UserUttered):
                return dict(event.metadata or {})
        return {}

    # ---- serialising ---------------------------------------------------------------------------

    def current_state(self, events: str = "all") -> dict[str, Any]:
        """Rasa's tracker JSON (`GET /conversations/<id>/tracker`).

        `events` is Rasa's EventVerbosity: `all`, `applied`, `after_restart` or `none`.
        """
        if events == "all":
            serialised: list[dict[str, Any]] | None = [e.to_dict() for e in self.events]
        elif events == "applied":
            serialised = [e.to_dict() for e in self.applied_events()]
        elif events == "after_restart":
            serialised = [e.to_dict() for e in self._events_after_latest_restart()]
        else:
            serialised = None
        latest_message: dict[str, Any] = {}
        if self.latest_message is not None:
            latest_message = dict(self.latest_message.parse_data)
            latest_message["entities"] = list(self.latest_message.entities)
        return {
            "sender_id": self.sender_id,
            "slots": dict(self.slots),
            "latest_message": latest_message,
            "latest_event_time": self.events[-1].timestamp if self.events else None,
            "followup_action": self.followup_action,
            "paused": self.is_paused(),
            "events": serialised,
            "latest_input_channel": self.latest_input_channel(),
            "active_loop": self.active_loop,
            "latest_action": self.latest_action,
            "latest_action_name": self.latest_action_name,
        }

    def _events_after_latest_restart(self) -> list[Event]:
        for index in range(len(self.events) - 1, -1, -1):
            if isinstance(self.events[index], Restarted):
                return self.events[index + 1 :]
        return list(self.events)


_HANDLERS: dict[type[Event], Callable[[DialogueStateTracker, Any], None]] = {
    UserUttered: DialogueStateTracker._on_user,
    BotUttered: DialogueStateTracker._on_bot,
    ActionExecuted: DialogueStateTracker._on_action,
    SlotSet: DialogueStateTracker._on_slot,
    AllSlotsReset: lambda t, e: t._reset_slots(),
    Restarted: DialogueStateTracker._on_restart,
    SessionStarted: lambda t, e: t._reset(),
    UserUtteranceReverted: lambda t, e: t._replay(),
    ActionReverted: lambda t, e: t._replay(),
    FollowupAction: DialogueStateTracker._on_followup,
    ConversationPaused: DialogueStateTracker._on_pause,
    ConversationResumed: DialogueStateTracker._on_resume,
    ActiveLoop: lambda t, e: t._change_loop_to(e.name),
    LoopInterrupted: DialogueStateTracker._on_loop_interrupted,
    ActionExecutionRejected: DialogueStateTracker._on_rejected,
    EntitiesAdded: DialogueStateTracker._on_entities,
    DefinePrevUserUtteredFeaturization: DialogueStateTracker._on_featurization,
}


def _undo_till_previous(kind: type[Event], done: list[Event]) -> None:
    """Drop events from the end up to and including the last one of `kind`."""
    while done:
        event = done.pop()
        if isinstance(event, kind):
            return


def _first_loop_execution_or_unhappy_path(loop: str, applied: list[Event]) -> bool:
    next_action: str | None = None
    for event in reversed(applied):
        if isinstance(event, ActiveLoop) and event.name is None:
            return True
        rejected = isinstance(event, ActionExecutionRejected) and event.action_name == loop
        # In training data there are no rejections: another action answering the latest user
        # message instead of the loop marks the unhappy path.
        other_action = (
            isinstance(event, UserUttered) and next_action is not None and next_action != loop
        )
        if rejected or other_action:
            return True
        if isinstance(event, ActionExecuted):
            if event.action_name == loop:
                return False
            next_action = event.action_name
    return True


def _undo_till_previous_loop_execution(loop: str, done: list[Event]) -> None:
    offset = 0
    for event in reversed(done[:]):
        if isinstance(event, ActionExecuted) and event.action_name == loop:
            break
        if isinstance(event, (ActionExecuted, UserUttered, DefinePrevUserUtteredFeaturization)):
            del done[-1 - offset]
        else:
            offset += 1

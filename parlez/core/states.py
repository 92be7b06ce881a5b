"""Conversation states as the dialogue policies see them, and keys to remember them by.

A state is Rasa's dict of sub-states: `user` (intent, entities, or text), `prev_action`,
`active_loop` and `slots`. Rules see only what they mention: a slot or loop a rule does not
name is left out of its states, and one it sets to `null` must not be set.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from parlez.domain import Domain
from parlez.events import ACTION_LISTEN, ACTION_UNLIKELY_INTENT, ActionExecuted, ActiveLoop, SlotSet
from parlez.tracker import DialogueStateTracker

State = dict[str, dict[str, Any]]

#: Rasa's marker in rule states for "this slot or loop must not be set"
SHOULD_NOT_BE_SET = "should_not_be_set"
#: the action name that stands for "anything may have happened before" in rules
RULE_SNIPPET_ACTION = "..."


def without_text(state: State) -> State:
    """The state with the user's text removed where an intent stands for it."""
    user = state.get("user")
    if not user or "intent" not in user or "text" not in user:
        return state
    copied = dict(state)
    copied["user"] = {k: v for k, v in user.items() if k != "text"}
    return copied


def without_intent(state: State) -> State:
    """The state of an end-to-end prediction: the user's text, not the intent."""
    user = state.get("user")
    if not user or "text" not in user:
        return state
    copied = dict(state)
    copied["user"] = {"text": user["text"]}
    return copied


#: each tracker's states as last computed, and the tracker state they were computed for;
#: forgotten with the tracker
_STATES: weakref.WeakKeyDictionary[DialogueStateTracker, tuple[Any, list[State]]] = (
    weakref.WeakKeyDictionary()
)


def tracker_states(tracker: DialogueStateTracker, domain: Domain) -> list[State]:
    """One state per action decision in the conversation, then the current state.

    Every policy asks for them at every prediction: they are computed once per tracker state
    (the tracker only ever grows by appending events).
    """
    marker = (len(tracker.events), id(tracker.events[-1]) if tracker.events else None, id(domain))
    cached = _STATES.get(tracker)
    if cached is not None and cached[0] == marker:
        return list(cached[1])
    states = _tracker_states(tracker, domain)
    _STATES[tracker] = (marker, states)
    return list(states)


def end_to_end_states(tracker: DialogueStateTracker, domain: Domain) -> list[State] | None:
    """The states with the message the bot is answering given by its text instead of its
    intent and entities, as end-to-end stories (`user: "..."`) are learned; None when the
    bot is not answering a message with text."""
    states = tracker_states(tracker, domain)
    message = tracker.latest_message
    if (
        not states
        or message is None
        or not message.text
        or states[-1].get("prev_action", {}).get("action_name") != ACTION_LISTEN
    ):
        return None
    last = {k: v for k, v in states[-1].items() if k != "user"}
    return [*states[:-1], {"user": {"text": message.text}, **last}]


def _tracker_states(tracker: DialogueStateTracker, domain: Domain) -> list[State]:
    if any(
        isinstance(e, ActionExecuted) and e.action_name == ACTION_UNLIKELY_INTENT
        for e in tracker.events
    ):
        kept = [
            e
            for e in tracker.applied_events()
            if not (isinstance(e, ActionExecuted) and e.action_name == ACTION_UNLIKELY_INTENT)
        ]
        tracker = DialogueStateTracker.from_events(
            tracker.sender_id, kept, domain.all_slots.values()
        )
    return [without_text(s) for s in domain.states_for_tracker_history(tracker)]


def rule_states(tracker: DialogueStateTracker, domain: Domain) -> list[State]:
    """A rule's states: only the slots and loop its events name; `null` means must-not-be-set."""
    states: list[State] = []
    named_slots: dict[str, Any] = {}
    loop: str | None = None
    prior = tracker.init_copy()
    for event in tracker.applied_events():
        if _is_action(event):
            states.append(_rule_state(prior, domain, named_slots, loop))
        prior.update(event)
        if isinstance(event, SlotSet):
            named_slots[event.key] = event.value
        elif isinstance(event, ActiveLoop):
            loop = event.name
    states.append(_rule_state(prior, domain, named_slots, loop))
    return states


def _is_action(event: Any) -> bool:
    return isinstance(event, ActionExecuted)


def _rule_state(
    tracker: DialogueStateTracker, domain: Domain, named: dict[str, Any], loop: str | None
) -> State:
    state = without_text(domain.get_active_state(tracker))
    slots: dict[str, Any] = {}
    for name, value in named.items():
        slot = domain.all_slots.get(name)
        if slot is None:
            continue
        if value is None or value == SHOULD_NOT_BE_SET:
            if slot.influence_conversation:
                slots[name] = SHOULD_NOT_BE_SET
            continue
        features = slot.features(value)
        if features and any(features):
            slots[name] = tuple(features)
    state.pop("slots", None)
    if slots:
        state["slots"] = slots
    if loop == SHOULD_NOT_BE_SET:
        state["active_loop"] = {"name": SHOULD_NOT_BE_SET}
    return state


def state_key(states: list[State]) -> str:
    """A stable text key for a list of states (sorted keys, tuples as lists)."""
    return json.dumps(states, sort_keys=True, ensure_ascii=False, default=list)


def states_from_key(key: str) -> list[State]:
    states: list[State] = json.loads(key)
    for state in states:
        for sub in state.values():
            for name, value in sub.items():
                if isinstance(value, list):
                    sub[name] = tuple(value)
    return states


def rule_matches(rule_state: State, state: State) -> bool:
    """Whether a conversation state has everything a rule's state asks for."""
    for kind, rule_sub in rule_state.items():
        sub = state.get(kind, {})
        for name, value in rule_sub.items():
            if value == SHOULD_NOT_BE_SET or value == (SHOULD_NOT_BE_SET,):
                if name in sub:
                    return False
            elif sub.get(name) != value:
                return False
    return True

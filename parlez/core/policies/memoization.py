"""MemoizationPolicy and AugmentedMemoizationPolicy: the stories' next actions, remembered.

A story's last `max_history` states before each action become a key; a conversation whose
recent states equal a key gets that action with confidence 1. Keys that stories disagree
about are forgotten rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from parlez.core.policies.policy import MEMOIZATION_PRIORITY, Policy, PolicyPrediction
from parlez.core.states import (
    State,
    end_to_end_states,
    state_key,
    tracker_states,
    without_intent,
)
from parlez.domain import Domain
from parlez.events import ActionExecuted, Event
from parlez.registry import register_policy
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.core.training_trackers import TrainingTracker


def action_names(events: Sequence[Event]) -> list[str]:
    return [e.action_name or e.action_text or "" for e in events if isinstance(e, ActionExecuted)]


@register_policy("MemoizationPolicy")
class MemoizationPolicy(Policy):
    defaults = {"priority": MEMOIZATION_PRIORITY, "max_history": 5}
    accepted = {"use_nlu_confidence_as_score"}

    def train(self, trackers: Sequence[TrainingTracker], domain: Domain) -> MemoizationPolicy:
        lookup: dict[str, str | None] = {}
        for training in trackers:
            if training.is_rule or training.is_augmented:
                continue
            tracker = training.tracker(domain)
            states = tracker_states(tracker, domain)
            for index, action in enumerate(action_names(tracker.applied_events())):
                for variant in _variants(self._window(states[: index + 1])):
                    key = state_key(variant)
                    if key in lookup and lookup[key] != action:
                        lookup[key] = None  # stories disagree: remember neither
                    else:
                        lookup.setdefault(key, action)
        self.lookup_ = {k: v for k, v in lookup.items() if v is not None}
        self.reads_text_ = _has_text_keys(self.lookup_)
        return self

    def _window(self, states: list[State]) -> list[State]:
        history = self.config["max_history"]
        return states[-int(history) :] if history else states

    def recall(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        return self.lookup_.get(state_key(self._window(tracker_states(tracker, domain))))

    def recall_text(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        """The action an end-to-end story (`user: "..."`) gives the message's exact text."""
        if not self.reads_text_:  # no end-to-end story: nothing to look up by text
            return None
        states = end_to_end_states(tracker, domain)
        return None if states is None else self.lookup_.get(state_key(self._window(states)))

    def predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        by_text = self.recall_text(tracker, domain)
        if by_text is not None:
            return self.prediction(domain, by_text, is_end_to_end_prediction=True)
        return self.prediction(domain, self.recall(tracker, domain))

    def state(self) -> dict[str, Any]:
        return {"lookup": self.lookup_}

    def set_state(self, state: dict[str, Any]) -> None:
        self.lookup_ = dict(state.get("lookup", {}))
        self.reads_text_ = _has_text_keys(self.lookup_)


def _has_text_keys(lookup: dict[str, str]) -> bool:
    """Whether some remembered state gives a user message by its text (`user: "..."`)."""
    return any('"user": {"text": ' in key for key in lookup)


def _variants(states: list[State]) -> list[list[State]]:
    """The states by intent, and (for end-to-end stories) the same states by user text."""
    by_text = [without_intent(s) for s in states]
    return [states] if by_text == states else [states, by_text]


@register_policy("AugmentedMemoizationPolicy")
class AugmentedMemoizationPolicy(MemoizationPolicy):
    """Memoization that, when the whole recent history is unknown, forgets the oldest turns
    one at a time (keeping the slots and loop they set) until the rest is a known story."""

    def recall(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        states = tracker_states(tracker, domain)
        action = self.lookup_.get(state_key(self._window(states)))
        if action is not None:
            return action
        # Forgetting everything before action k leaves: a first state holding only the slots
        # and loop set so far, then the states after it. While more than `max_history` states
        # remain the window is unchanged, so only the last cuts can find anything new.
        history = int(self.config["max_history"] or len(states))
        for cut in range(max(1, len(states) - history), len(states)):
            shorter = [_only_slots_and_loop(states[cut]), *states[cut + 1 :]]
            action = self.lookup_.get(state_key(self._window(shorter)))
            if action is not None:
                return action
        return None


def _only_slots_and_loop(state: State) -> State:
    return {k: v for k, v in state.items() if k in ("slots", "active_loop")}

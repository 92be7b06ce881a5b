"""Rasa's check for incomplete rules: an action must leave the same featurized slots and the
same form state in every rule that runs it.

A rule's state only has what the rule names. If `action_check_age` is followed by
`slot_was_set: - adult: true` in one rule and by nothing in another, the second rule can
never match at prediction time, where the action always sets the slot: it is incomplete.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parlez.core.states import RULE_SNIPPET_ACTION, SHOULD_NOT_BE_SET
from parlez.domain import Domain
from parlez.events import ACTION_LISTEN, ActionExecuted, ActiveLoop, SlotSet, UserUttered
from parlez.exceptions import ParlezError

if TYPE_CHECKING:
    from parlez.core.training_trackers import TrainingTracker


class IncompleteRuleError(ParlezError):
    code = "P303"


@dataclass
class Fingerprint:
    """What an action sets right after it, over all rules: featurized slots, and forms
    (None: a form deactivated)."""

    slots: set[str] = field(default_factory=set)
    loops: set[str | None] = field(default_factory=set)


def _loop_name(name: str | None) -> str | None:
    return None if name in (None, SHOULD_NOT_BE_SET) else name


def featurized_slots(domain: Domain) -> set[str]:
    return {name for name, slot in domain.all_slots.items() if slot.influence_conversation}


def fingerprints(rules: Sequence[TrainingTracker], featurized: set[str]) -> dict[str, Fingerprint]:
    found: dict[str, Fingerprint] = {}
    for rule in rules:
        action: str | None = None
        for event in rule.events:
            if isinstance(event, ActionExecuted):
                action = event.action_name or event.action_text
            elif isinstance(event, UserUttered):
                action = None  # slots a message's entities set are not the action's
            elif action is not None and action != RULE_SNIPPET_ACTION:
                if isinstance(event, SlotSet) and event.key in featurized:
                    found.setdefault(action, Fingerprint()).slots.add(event.key)
                elif isinstance(event, ActiveLoop):
                    found.setdefault(action, Fingerprint()).loops.add(_loop_name(event.name))
    return found


@dataclass
class _After:
    """One action of a rule, what the rule has set by the time the next action runs."""

    action: str
    slots: set[str]
    loop: str | None
    next_action: str


def _actions(rule: TrainingTracker, featurized: set[str]) -> Iterator[_After]:
    slots: set[str] = set()
    loop: str | None = None
    previous: str | None = None
    for event in rule.events:
        if isinstance(event, ActionExecuted):
            name = event.action_name or event.action_text or ""
            if previous is not None:
                yield _After(previous, set(slots), loop, name)
            previous = name
        elif isinstance(event, SlotSet) and event.key in featurized:
            slots.add(event.key)
        elif isinstance(event, ActiveLoop):
            loop = _loop_name(event.name)
    if previous is not None and previous != ACTION_LISTEN:
        # A rule that does not wait for the user goes on with anything (Rasa's `...`).
        yield _After(previous, set(slots), loop, RULE_SNIPPET_ACTION)


def check_complete(rules: Sequence[TrainingTracker], domain: Domain) -> None:
    """Raise `IncompleteRuleError` naming every action that leaves less set in one rule
    than it sets in another."""
    featurized = featurized_slots(domain)
    prints = fingerprints(rules, featurized)
    problems: list[str] = []
    first: TrainingTracker | None = None
    for rule in rules:
        for after in _actions(rule, featurized):
            known = prints.get(after.action)
            if known is None or RULE_SNIPPET_ACTION in (after.action, after.next_action):
                continue
            missing = sorted(known.slots - after.slots)
            if missing:
                problems.append(
                    f"- the action '{after.action}' in the rule '{rule.name}' does not set the "
                    f"slots it sets in other rules: {', '.join(missing)}; add after it "
                    f"`- slot_was_set:` with {', '.join(missing)}"
                )
            if known.loops and after.loop not in known.loops:
                states = ", ".join(sorted("null" if n is None else n for n in known.loops))
                problems.append(
                    f"- the form '{after.action}' in the rule '{rule.name}' does not set the "
                    f"active loop as it does in other rules ({states}); add "
                    f"`- active_loop: {after.action}` or `- active_loop: null` after it, or "
                    "`wait_for_user_input: false` if it is the rule's last action"
                )
            if problems and first is None:
                first = rule
    if problems:
        raise IncompleteRuleError(
            "incomplete rules:\n" + "\n".join(problems),
            first.location if first else None,
            hint="an action sets the same things wherever it runs, so each rule must show "
            "them; set a slot to null where it should not be set, "
            "or turn the check off with `check_for_contradictions: false`",
        )

"""RulePolicy: rules, forms and fallback, as Rasa 3 applies them.

Each action step of a rule becomes a key: the rule's states before it (from after `...`,
with only the slots and loop the rule names). A conversation matches a key when each of its
latest states has what the key's state asks for; the longest matching rule wins. An active
form (loop) is predicted until it rejects, and a rule that ends by listening while a form is
active gives the turn back to the form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parlez.core.policies.incomplete_rules import check_complete
from parlez.core.policies.memoization import action_names
from parlez.core.policies.policy import RULE_PRIORITY, Policy, PolicyPrediction
from parlez.core.states import (
    RULE_SNIPPET_ACTION,
    State,
    end_to_end_states,
    rule_matches,
    rule_states,
    state_key,
    states_from_key,
    tracker_states,
)
from parlez.domain import Domain
from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    ActionExecutionRejected,
    Event,
    LoopInterrupted,
    UserUttered,
)
from parlez.exceptions import Location, ParlezError
from parlez.registry import register_policy
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.core.training_trackers import TrainingTracker

#: Rasa's built-in rules: these intents always run these actions.
DEFAULT_RULES = {
    "restart": "action_restart",
    "back": "action_back",
    "session_start": "action_session_start",
}


class RuleContradictionError(ParlezError):
    code = "P300"


class StoryContradictsRuleError(ParlezError):
    code = "P301"


class RuleTooLongError(ParlezError):
    code = "P302"


@dataclass
class _Rule:
    states: list[State]
    action: str
    name: str
    location: Location | None
    conversation_start: bool


@dataclass
class _Decision:
    action: str
    rule: _Rule | None = None
    #: a general rule finished during a form: back to the form, which was interrupted
    interrupts_loop: bool = False


@register_policy("RulePolicy")
class RulePolicy(Policy):
    defaults = {
        "priority": RULE_PRIORITY,
        "core_fallback_threshold": 0.3,
        "core_fallback_action_name": "action_default_fallback",
        "enable_fallback_prediction": True,
        "restrict_rules": True,
        "check_for_contradictions": True,
    }
    accepted = {"use_nlu_confidence_as_score", "max_history"}

    # ---- training -------------------------------------------------------------------------------

    def train(self, trackers: Sequence[TrainingTracker], domain: Domain) -> RulePolicy:
        if self.config["restrict_rules"]:
            _check_one_user_message([t for t in trackers if t.is_rule])
        if self.config["check_for_contradictions"]:
            check_complete([t for t in trackers if t.is_rule], domain)
        rules: dict[str, _Rule] = {}
        for training in trackers:
            if not training.is_rule:
                continue
            tracker = training.tracker(domain)
            states = rule_states(tracker, domain)
            actions = action_names(tracker.applied_events())
            for index, action in enumerate(actions):
                if action == RULE_SNIPPET_ACTION:
                    continue
                known = _after_snippet(states[: index + 1])
                if not known:
                    continue
                where = (
                    training.action_locations[index]
                    if index < len(training.action_locations)
                    else training.location
                )
                rule = _Rule(known, action, training.name, where, training.conversation_start)
                key = state_key(known) + ("^" if training.conversation_start else "")
                other = rules.get(key)
                if other is not None and other.action != action:
                    if self.config["check_for_contradictions"]:
                        raise RuleContradictionError(
                            f"the rules '{other.name}' and '{rule.name}' contradict each other: "
                            f"in the same situation one runs '{other.action}', the other '{action}'",
                            where,
                            hint=f"'{other.name}' is at {other.location or 'an unknown place'}; "
                            "change one rule's steps or add a condition that tells them apart",
                        )
                    continue
                rules[key] = rule
        self.rules_ = list(rules.values())
        self.text_rules_ = [r for r in self.rules_ if _is_text_rule(r)]
        if self.config["check_for_contradictions"]:
            for training in trackers:
                if not training.is_rule and not training.is_augmented:
                    self._check_story(training, domain)
        return self

    def _check_story(self, story: TrainingTracker, domain: Domain) -> None:
        """A story must not run another action where a rule decides: at prediction time the
        rule would win, and the story's step would never happen (Rasa checks the same)."""
        whole = story.tracker(domain)
        running = whole.init_copy()
        first = True
        for event in whole.applied_events():
            if isinstance(event, ActionExecuted) and not first:
                gold = event.action_name or event.action_text
                decided = self._decide(running, domain)
                if (
                    decided
                    and decided.action != gold
                    and decided.action == running.active_loop_name
                ):
                    # The story leaves the form here: as at prediction time, the form rejects
                    # the message first, and the rules decide what comes instead.
                    rejected = running.copy()
                    rejected.update(ActionExecutionRejected(decided.action))
                    decided = self._decide(rejected, domain)
                if decided and decided.action != gold and decided.rule is not None:
                    action, rule = decided.action, decided.rule
                    raise StoryContradictsRuleError(
                        f"the story '{story.name}' runs '{gold}' where the rule '{rule.name}' "
                        f"runs '{action}'; at prediction time the rule wins and the story's step "
                        "never happens",
                        story.location,
                        hint=f"'{rule.name}' is at {rule.location or 'an unknown place'}; change "
                        "the story, or end the rule with `wait_for_user_input: false` if the "
                        "conversation may go on after it",
                    )
            if isinstance(event, ActionExecuted):
                first = False
            running.update(event)

    # ---- prediction -----------------------------------------------------------------------------

    def predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        # As in Rasa, a rule for the message's exact text (`user: "..."`) comes first; only
        # projects that have such rules pay for the second look.
        by_text = (
            self._decide(tracker, domain, by_text=True)
            if self.text_rules_ and _has_text(tracker)
            else None
        )
        if by_text is not None and by_text.rule is not None:
            return self.prediction(domain, by_text.action, is_end_to_end_prediction=True)
        decided = self._decide(tracker, domain)
        if decided is not None:
            events: list[Event] = [LoopInterrupted(True)] if decided.interrupts_loop else []
            return self.prediction(domain, decided.action, optional_events=events)
        if self.config["enable_fallback_prediction"]:
            return self.prediction(
                domain,
                self.config["core_fallback_action_name"],
                float(self.config["core_fallback_threshold"]),
            )
        return self.prediction(domain)

    def _decide(
        self, tracker: DialogueStateTracker, domain: Domain, by_text: bool = False
    ) -> _Decision | None:
        """The action the rules (or the active form) choose, and the rule that chose it."""
        action = self._default_rule(tracker)
        if action is not None:
            return _Decision(action)
        loop = tracker.active_loop_name
        rejected = bool(tracker.active_loop.get("rejected"))
        if loop and not rejected:
            # A form asks for its slots until it rejects the user's answer.
            return _Decision(ACTION_LISTEN if tracker.latest_action_name == loop else loop)
        states = end_to_end_states(tracker, domain) if by_text else tracker_states(tracker, domain)
        if states is None:
            return None
        found = self._best_rule(
            states, exclude=loop if rejected else None, among=self.text_rules_ if by_text else None
        )
        if found is None:
            return None
        if loop and found.action == ACTION_LISTEN and "active_loop" not in found.states[-1]:
            # A general rule finished (e.g. answered a question during the form):
            # back to the form, which knows it was interrupted.
            return _Decision(loop, interrupts_loop=True)
        return _Decision(found.action, found)

    def _default_rule(self, tracker: DialogueStateTracker) -> str | None:
        if tracker.latest_action_name != ACTION_LISTEN or tracker.latest_message is None:
            return None
        return DEFAULT_RULES.get(tracker.latest_message.intent_name or "")

    def _best_rule(
        self, states: list[State], exclude: str | None, among: Sequence[_Rule] | None = None
    ) -> _Rule | None:
        """The longest rule (of `among`, default all) that applies to `states`."""
        best: _Rule | None = None
        for rule in self.rules_ if among is None else among:
            if rule.action == exclude or not _applies(rule, states):
                continue
            if best is None or (len(rule.states), len(state_key(rule.states))) > (
                len(best.states),
                len(state_key(best.states)),
            ):
                best = rule
        return best

    def rule_for(self, tracker: DialogueStateTracker, domain: Domain) -> tuple[str, str] | None:
        """The action and the name of the rule that applies now, if one does."""
        found = self._best_rule(tracker_states(tracker, domain), exclude=None)
        return (found.action, found.name) if found else None

    # ---- files ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "rules": [
                {
                    "states": state_key(r.states),
                    "action": r.action,
                    "name": r.name,
                    "conversation_start": r.conversation_start,
                }
                for r in self.rules_
            ]
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.rules_ = [
            _Rule(
                states_from_key(r["states"]),
                r["action"],
                r["name"],
                None,
                bool(r.get("conversation_start")),
            )
            for r in state.get("rules", [])
        ]
        self.text_rules_ = [r for r in self.rules_ if _is_text_rule(r)]


def _after_snippet(states: list[State]) -> list[State]:
    """The states after the last `...`: what came before it does not matter to the rule."""
    for index in range(len(states) - 1, -1, -1):
        if states[index].get("prev_action", {}).get("action_name") == RULE_SNIPPET_ACTION:
            return states[index + 1 :]
    return states


def _applies(rule: _Rule, states: list[State]) -> bool:
    if rule.conversation_start and len(rule.states) != len(states):
        return False
    if len(rule.states) > len(states):
        return False
    for rule_state, state in zip(reversed(rule.states), reversed(states), strict=False):
        if not rule_state:
            # The start of a conversation: nothing has happened (slots may have initial values).
            if state.get("prev_action") or state.get("user"):
                return False
        elif not rule_matches(rule_state, state):
            return False
    return True


def _is_text_rule(rule: _Rule) -> bool:
    """Whether the rule answers a message by its text (`user: "..."`), not its intent."""
    return bool(rule.states) and "text" in rule.states[-1].get("user", {})


def _has_text(tracker: DialogueStateTracker) -> bool:
    return bool(tracker.latest_message and tracker.latest_message.text)


def _check_one_user_message(rules: Sequence[TrainingTracker]) -> None:
    """Rasa's `restrict_rules`: a rule is one user message and what answers it."""
    for rule in rules:
        said = sum(isinstance(e, UserUttered) for e in rule.events)
        if said > 1:
            raise RuleTooLongError(
                f"the rule '{rule.name}' has {said} user messages; a rule answers one message, "
                "it is not meant to script a whole conversation",
                rule.location,
                hint="write it as a story, or set `restrict_rules: false` on RulePolicy",
            )

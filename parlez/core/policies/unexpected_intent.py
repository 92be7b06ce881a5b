"""UnexpecTEDIntentPolicy: notices when the user's intent is unlikely where the story is.

For each point where the bot listens (the previous action, the active loop), it learns
which intents the stories continue with. When the user says something no story ever says
there, and the stories show that point often enough to be sure, it predicts
`action_unlikely_intent`; the conversation then goes on as the other policies decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from parlez.core.policies.policy import UNLIKELY_INTENT_PRIORITY, Policy, PolicyPrediction
from parlez.domain import Domain
from parlez.events import (
    ACTION_LISTEN,
    ACTION_UNLIKELY_INTENT,
    ActionExecuted,
    ActiveLoop,
    UserUttered,
)
from parlez.registry import register_policy
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.core.training_trackers import TrainingTracker


def _context(previous_action: str | None, loop: str | None) -> str:
    return f"{previous_action}|{loop or ''}"


@register_policy("UnexpecTEDIntentPolicy")
class UnexpecTEDIntentPolicy(Policy):
    defaults = {
        "priority": UNLIKELY_INTENT_PRIORITY,
        "max_history": 5,
        "epochs": 1,
        #: how many story turns a point needs before an unseen intent there counts as unlikely
        "minimum_examples": 5,
        "tolerance": 0.0,
    }
    accepted = {
        "batch_size",
        "learning_rate",
        "transformer_size",
        "number_of_transformer_layers",
        "random_seed",
        "ignore_intents_list",
        "evaluate_every_number_of_epochs",
        "model_confidence",
        "constrain_similarities",
    }

    def train(self, trackers: Sequence[TrainingTracker], domain: Domain) -> UnexpecTEDIntentPolicy:
        seen: dict[str, dict[str, int]] = {}
        for training in trackers:
            if training.is_rule:
                continue
            previous: str | None = None
            before_listen: str | None = None
            loop: str | None = None
            for event in training.events:
                if isinstance(event, ActiveLoop):
                    loop = event.name
                elif isinstance(event, ActionExecuted):
                    if event.action_name == ACTION_LISTEN:
                        before_listen = previous
                    previous = event.action_name or event.action_text
                elif isinstance(event, UserUttered) and event.intent_name:
                    counts = seen.setdefault(_context(before_listen, loop), {})
                    counts[event.intent_name] = counts.get(event.intent_name, 0) + 1
        self.seen_ = seen
        return self

    def predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        if tracker.latest_action_name != ACTION_LISTEN or tracker.latest_message is None:
            return self.prediction(domain)
        intent = tracker.latest_message.intent_name
        if not intent or intent not in domain.intents:
            return self.prediction(domain)
        actions = [e for e in tracker.applied_events() if isinstance(e, ActionExecuted)]
        before = actions[-2].action_name if len(actions) >= 2 else None
        counts = self.seen_.get(_context(before, tracker.active_loop_name), {})
        total = sum(counts.values())
        share = counts.get(intent, 0) / total if total else 1.0
        if total >= int(self.config["minimum_examples"]) and share <= float(
            self.config["tolerance"]
        ):
            return self.prediction(domain, ACTION_UNLIKELY_INTENT)
        return self.prediction(domain)

    def state(self) -> dict[str, Any]:
        return {"seen": self.seen_}

    def set_state(self, state: dict[str, Any]) -> None:
        self.seen_ = dict(state.get("seen", {}))

"""The policy ensemble: every policy predicts, one prediction wins, as in Rasa.

Predictions that do not depend on the user's message win over those that do, end-to-end
predictions win over intent-based ones, then the highest confidence wins, and on equal
confidence the higher priority (rules 6, memoization 3, ML 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from parlez.config import ComponentConfig
from parlez.core.policies.policy import Policy, PolicyPrediction, TextFeaturizer
from parlez.domain import Domain
from parlez.events import ActionExecuted, ActionExecutionRejected
from parlez.exceptions import ParlezError
from parlez.io.part_folders import read_parts, write_parts
from parlez.progress import StepProgress
from parlez.registry import policies
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.core.training_trackers import TrainingTracker


#: the manifest of the ensemble's policy folders
POLICIES_FILE = "policies.json"


class PolicyEnsemble:
    def __init__(self, steps: Sequence[Policy]) -> None:
        self.policies = list(steps)

    @classmethod
    def from_config(cls, items: Sequence[ComponentConfig]) -> PolicyEnsemble:
        return cls(
            [
                policies.get(i.name, i.location).create(i.params, i.location, i.param_locations)
                for i in items
            ]
        )

    def use_nlu(self, nlu: TextFeaturizer | None) -> PolicyEnsemble:
        """Give the policies the NLU pipeline that featurizes end-to-end user text."""
        for policy in self.policies:
            policy.use_nlu(nlu)
        return self

    def train(
        self,
        trackers: Sequence[TrainingTracker],
        domain: Domain,
        progress: StepProgress | None = None,
    ) -> PolicyEnsemble:
        """Train each policy in turn; `progress` is told of each as it starts."""
        for number, policy in enumerate(self.policies, start=1):
            if progress is not None:
                progress(type(policy).__name__, number, len(self.policies))
            policy.train(trackers, domain)
        return self

    def predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        predictions = [p.predict(tracker, domain) for p in self.policies]
        rejected = _rejected_action(tracker)
        names = domain.action_names_or_texts
        if rejected is not None and rejected in names:
            index = names.index(rejected)
            for prediction in predictions:
                if prediction.probabilities[index] > 0:
                    prediction.probabilities[index] = 0.0
        return best_prediction(predictions, len(names))

    # ---- files ----------------------------------------------------------------------------------

    def persist(self, path: Path) -> None:
        parts = [(f"{n:02d}_{policy.name}", policy) for n, policy in enumerate(self.policies)]
        write_parts(path, POLICIES_FILE, "policies", parts)

    @classmethod
    def load(cls, path: Path) -> PolicyEnsemble:
        loaded, _ = read_parts(
            path,
            POLICIES_FILE,
            "policies",
            lambda name, folder, config: policies.get(name).load(folder, config),
            ParlezError(f"no dialogue policies in '{path}'", hint="train them with `parlez train`"),
        )
        return cls(loaded)


def _rejected_action(tracker: DialogueStateTracker) -> str | None:
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return event.action_name
        if isinstance(event, ActionExecuted):
            return None
    return None


def best_prediction(predictions: Sequence[PolicyPrediction], size: int) -> PolicyPrediction:
    if not predictions:
        return PolicyPrediction([0.0] * size, None)
    no_user = any(p.is_no_user_prediction for p in predictions)
    end_to_end = any(p.is_end_to_end_prediction for p in predictions)
    best: PolicyPrediction | None = None
    best_key = (-1.0, -1)
    events = []
    for prediction in predictions:
        events += prediction.events
        if prediction.is_no_user_prediction != no_user:
            continue
        if not no_user and prediction.is_end_to_end_prediction != end_to_end:
            continue
        key = (prediction.max_confidence, prediction.policy_priority)
        if key > best_key:
            best, best_key = prediction, key
    assert best is not None
    return replace(best, events=events + best.optional_events, optional_events=[])

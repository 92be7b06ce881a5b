"""The policy contract: `train(trackers, domain) -> self`, `predict(tracker, domain)`.

Like NLU components, a policy's `__init__` stores parameters only, what it learns lives in
attributes ending in `_`, and `persist`/`load` write plain files in the policy's own folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from parlez.diagnostics import warn
from parlez.domain import Domain
from parlez.events import Event
from parlez.exceptions import Location
from parlez.io.state import read_state, write_state
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.core.training_trackers import TrainingTracker

#: Rasa's policy priorities: on equal confidence the higher one wins.
RULE_PRIORITY = 6
MEMOIZATION_PRIORITY = 3
UNLIKELY_INTENT_PRIORITY = 2
ML_PRIORITY = 1


@dataclass
class PolicyPrediction:
    """Probabilities over the domain's actions, from one policy."""

    probabilities: list[float]
    policy_name: str | None
    policy_priority: int = 0
    events: list[Event] = field(default_factory=list)
    #: events applied only when this prediction wins
    optional_events: list[Event] = field(default_factory=list)
    is_end_to_end_prediction: bool = False
    is_no_user_prediction: bool = False
    action_metadata: dict[str, Any] | None = None

    @property
    def max_confidence(self) -> float:
        return max(self.probabilities, default=0.0)

    @property
    def max_confidence_index(self) -> int:
        if not self.probabilities:
            return -1
        return max(range(len(self.probabilities)), key=self.probabilities.__getitem__)


class Policy:
    """Base of the dialogue policies."""

    name: ClassVar[str] = "Policy"
    defaults: ClassVar[dict[str, Any]] = {"priority": 0}
    #: Rasa parameters accepted without being used (no warning)
    accepted: ClassVar[set[str]] = set()

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = {**self.defaults, **(config or {})}

    @classmethod
    def create(cls, params: Mapping[str, Any], where: Location | None = None) -> Policy:
        unused = sorted(set(params) - set(cls.defaults) - cls.accepted)
        if unused:
            warn(
                "P181",
                f"{cls.name} does not use the parameter{'s' if len(unused) > 1 else ''} "
                f"{', '.join(unused)}; {'they are' if len(unused) > 1 else 'it is'} ignored",
                where,
            )
        return cls({k: v for k, v in params.items() if k in cls.defaults})

    @property
    def priority(self) -> int:
        return int(self.config["priority"])

    def train(self, trackers: Sequence[TrainingTracker], domain: Domain) -> Policy:
        return self

    def predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        raise NotImplementedError

    def prediction(
        self, domain: Domain, action: str | None = None, confidence: float = 1.0, **kwargs: Any
    ) -> PolicyPrediction:
        """A prediction of `action` (or of nothing: all zeros)."""
        names = domain.action_names_or_texts
        probabilities = [0.0] * len(names)
        if action is not None and action in names:
            probabilities[names.index(action)] = confidence
        return PolicyPrediction(probabilities, self.name, self.priority, **kwargs)

    def persist(self, path: Path) -> None:
        write_state(path, self.state())

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> Policy:
        policy = cls(config)
        state = read_state(path)
        if state is not None:
            policy.set_state(state)
        return policy

    def state(self) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what `state()` returned."""

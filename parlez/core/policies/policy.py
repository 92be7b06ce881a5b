"""The policy contract: `train(trackers, domain) -> self`, `predict(tracker, domain)`.

Like NLU components, a policy's `__init__` stores parameters only, what it learns lives in
attributes ending in `_`, and `persist`/`load` write plain files in the policy's own folder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from parlez.configurable import Configurable
from parlez.domain import Domain
from parlez.events import Event
from parlez.nlu.features import MessageFeatures
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


class TextFeaturizer(Protocol):
    """What turns a user's text into features: the NLU pipeline (`Pipeline.text_features`)."""

    def text_features(self, text: str) -> MessageFeatures | None: ...


class Policy(Configurable, ABC):
    """Base of the dialogue policies."""

    name: ClassVar[str] = "Policy"
    defaults: ClassVar[dict[str, Any]] = {"priority": 0}

    @property
    def priority(self) -> int:
        return int(self.config["priority"])

    def train(self, trackers: Sequence[TrainingTracker], domain: Domain) -> Policy:
        return self

    def use_nlu(self, nlu: TextFeaturizer | None) -> None:
        """The NLU pipeline, for policies that featurize end-to-end stories' user text
        (before training, and after loading)."""

    @abstractmethod
    def predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        """Probabilities over the domain's actions for what the bot does next."""

    def prediction(
        self, domain: Domain, action: str | None = None, confidence: float = 1.0, **kwargs: Any
    ) -> PolicyPrediction:
        """A prediction of `action` (or of nothing: all zeros)."""
        names = domain.action_names_or_texts
        probabilities = [0.0] * len(names)
        if action is not None and action in names:
            probabilities[names.index(action)] = confidence
        return PolicyPrediction(probabilities, self.name, self.priority, **kwargs)

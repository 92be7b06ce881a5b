"""The NLU component contract, after scikit-learn's estimators.

`__init__` stores parameters only; `train(messages)` learns and returns self, keeping what it
learned in attributes ending in `_`; `process(messages)` works on a batch; `persist(path)` and
`load(path, config)` write and read plain files (JSON, safetensors) in the component's own folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from parlez.configurable import Configurable
from parlez.nlu.message import Message
from parlez.training_data.training_data import TrainingData


class Component(Configurable):
    """Base of tokenizers, featurizers, classifiers and extractors."""

    name: ClassVar[str] = "Component"
    #: whether later components need this one's output on the training messages too
    process_training_data: ClassVar[bool] = False
    #: where this component's output is kept on a message; the pipeline makes it unique
    key: str = "Component"
    #: the assistant's language (config.yml), set by the pipeline
    language: str = "en"
    #: what must come before it in the pipeline, and what it adds to a message:
    #: "tokens", "features", "intent", "entities"
    needs: ClassVar[tuple[str, ...]] = ()
    gives: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def intents_given(cls, params: dict[str, Any]) -> frozenset[str]:
        """Intents this component gives with these parameters, with no NLU examples of
        their own (so that validation does not call them unused)."""
        return frozenset()

    def train(self, data: TrainingData, messages: Sequence[Message]) -> Component:
        """Learn from the training data and its messages (gold labels in `message.example`,
        features from the components before this one); returns self."""
        return self

    def process(self, messages: Sequence[Message]) -> None:
        """Add this component's output to each message."""

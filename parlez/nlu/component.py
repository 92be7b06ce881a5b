"""The NLU component contract, after scikit-learn's estimators.

`__init__` stores parameters only; `train(messages)` learns and returns self, keeping what it
learned in attributes ending in `_`; `process(messages)` works on a batch; `persist(path)` and
`load(path, config)` write and read plain files (JSON, `.npz`) in the component's own folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from parlez.diagnostics import warn
from parlez.exceptions import Location
from parlez.io.state import read_state, write_state
from parlez.nlu.message import Message
from parlez.training_data.training_data import TrainingData


class Component:
    """Base of tokenizers, featurizers, classifiers and extractors."""

    name: ClassVar[str] = "Component"
    defaults: ClassVar[dict[str, Any]] = {}
    #: Rasa parameters this component accepts without using them (no warning for these)
    accepted: ClassVar[set[str]] = set()
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

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = {**self.defaults, **(config or {})}

    @classmethod
    def create(cls, params: Mapping[str, Any], where: Location | None = None) -> Component:
        """The component from config.yml parameters; unused ones get one warning naming them."""
        unused = sorted(set(params) - set(cls.defaults) - cls.accepted)
        if unused:
            warn(
                "P181",
                f"{cls.name} does not use the parameter{'s' if len(unused) > 1 else ''} "
                f"{', '.join(unused)}; {'they are' if len(unused) > 1 else 'it is'} ignored",
                where,
            )
        return cls({k: v for k, v in params.items() if k in cls.defaults})

    def train(self, data: TrainingData, messages: Sequence[Message]) -> Component:
        """Learn from the training data and its messages (gold labels in `message.example`,
        features from the components before this one); returns self."""
        return self

    def process(self, messages: Sequence[Message]) -> None:
        """Add this component's output to each message."""

    def persist(self, path: Path) -> None:
        """Write what was learned into the folder `path` (created by the caller)."""
        write_state(path, self.state())

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> Component:
        component = cls(config)
        state = read_state(path)
        if state is not None:
            component.set_state(state)
        return component

    def state(self) -> dict[str, Any]:
        """Learned state as plain JSON data; components with arrays override persist/load."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what `state()` returned."""

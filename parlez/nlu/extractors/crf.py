"""CRFEntityExtractor: a conditional random field over hand-made token features (CRFsuite).

The model file is CRFsuite's own format, written next to the component's config and read
back into memory; no Python object is pickled.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.nlu.tagging import entity_dicts, tags_for
from parlez.nlu.token_features import SHAPE, check_windows, window_values
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

#: Rasa's CRF feature names: the shared token shapes, plus a bias and the regex matches.
FEATURES = [*SHAPE, "bias", "pattern"]


def _pattern_columns(message: Message, index: int) -> list[str]:
    """Which regex/lookup columns the RegexFeaturizer set for this token."""
    for key, features in message.features.items():
        if key.endswith("_RegexFeaturizer"):
            row = features.sequence[index]
            dense = row.toarray().ravel() if hasattr(row, "toarray") else np.asarray(row).ravel()
            return [str(c) for c in np.flatnonzero(dense)]
    return []


@register_component("CRFEntityExtractor")
class CRFEntityExtractor(Component):
    defaults = {
        "features": [
            ["low", "title", "upper"],
            [
                "bias",
                "low",
                "prefix5",
                "prefix2",
                "suffix5",
                "suffix3",
                "suffix2",
                "upper",
                "title",
                "digit",
                "pattern",
            ],
            ["low", "title", "upper"],
        ],
        "BILOU_flag": True,
        "max_iterations": 50,
        "L1_c": 0.1,
        "L2_c": 0.1,
    }
    accepted = {"split_entities_by_comma"}
    needs = ("tokens",)
    gives = ("entities",)

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        check_windows(self.name, self.config["features"], FEATURES)

    def _token_features(self, message: Message) -> list[list[str]]:
        # Rasa's CRF reads "low" as the lower-cased word itself, not as "is lower case".
        extra = {
            "bias": lambda i: ["bias"],
            "low": lambda i: [message.tokens[i].text.lower()],
            "pattern": lambda i: _pattern_columns(message, i),
        }
        return window_values(message.tokens, self.config["features"], extra, edges=True)

    def train(self, data: TrainingData, messages: Sequence[Message]) -> CRFEntityExtractor:
        import pycrfsuite

        trainer = pycrfsuite.Trainer(verbose=False)
        for message in messages:
            if message.example is None or not message.tokens:
                continue
            tags = tags_for(
                message.tokens, message.example.entities, "entity", self.config["BILOU_flag"]
            )
            trainer.append(self._token_features(message), tags)
        trainer.set_params(
            {
                "c1": self.config["L1_c"],
                "c2": self.config["L2_c"],
                "max_iterations": self.config["max_iterations"],
                "feature.possible_transitions": True,
            }
        )
        with tempfile.TemporaryDirectory() as folder:
            model = Path(folder) / "model.crfsuite"
            trainer.train(str(model))
            self.model_ = model.read_bytes()
        return self

    def _tagger(self) -> Any:
        if getattr(self, "_open", None) is None:
            import pycrfsuite

            self._open = pycrfsuite.Tagger()
            self._open.open_inmemory(self.model_)
        return self._open

    def process(self, messages: Sequence[Message]) -> None:
        tagger = self._tagger()
        for message in messages:
            if not message.tokens:
                continue
            tags = tagger.tag(self._token_features(message))
            confidences = [tagger.marginal(tag, i) for i, tag in enumerate(tags)]
            message.entities = message.entities + entity_dicts(
                message.text, message.tokens, tags, confidences, self.name
            )

    def persist(self, path: Path) -> None:
        (path / "model.crfsuite").write_bytes(self.model_)

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> CRFEntityExtractor:
        component = cls(config)
        component.model_ = (path / "model.crfsuite").read_bytes()
        return component

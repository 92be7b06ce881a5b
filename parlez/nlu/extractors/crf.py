"""CRFEntityExtractor: a conditional random field over hand-made token features (CRFsuite).

The model file is CRFsuite's own format, written next to the component's config and read
back into memory; no Python object is pickled.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parlez.exceptions import SchemaError, did_you_mean
from parlez.nlu.component import Component
from parlez.nlu.message import Message, Token
from parlez.nlu.tagging import entity_dicts, tags_for
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

_FEATURES: dict[str, Callable[[Token, Message], Any]] = {
    "bias": lambda t, m: "bias",
    "low": lambda t, m: t.text.lower(),
    "title": lambda t, m: t.text.istitle(),
    "upper": lambda t, m: t.text.isupper(),
    "digit": lambda t, m: t.text.isdigit(),
    "prefix5": lambda t, m: t.text[:5],
    "prefix2": lambda t, m: t.text[:2],
    "suffix5": lambda t, m: t.text[-5:],
    "suffix3": lambda t, m: t.text[-3:],
    "suffix2": lambda t, m: t.text[-2:],
    "suffix1": lambda t, m: t.text[-1:],
    "pos": lambda t, m: t.data.get("pos"),
    "pos2": lambda t, m: (t.data.get("pos") or "")[:2] or None,
    "pattern": lambda t, m: None,  # regex matches, read from the RegexFeaturizer below
}


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
        for window in self.config["features"]:
            for name in window:
                if name not in _FEATURES:
                    raise SchemaError(
                        f"CRFEntityExtractor has no feature '{name}'",
                        hint=did_you_mean(name, _FEATURES) or f"use {', '.join(_FEATURES)}",
                    )

    def _token_features(self, message: Message) -> list[list[str]]:
        windows = self.config["features"]
        half = len(windows) // 2
        rows = []
        for index in range(len(message.tokens)):
            values = []
            for offset, names in enumerate(windows, start=-half):
                position = index + offset
                if not 0 <= position < len(message.tokens):
                    values.append(f"{offset}:{'BOS' if position < 0 else 'EOS'}")
                    continue
                token = message.tokens[position]
                for name in names:
                    if name == "pattern":
                        values += [
                            f"{offset}:pattern:{c}" for c in _pattern_columns(message, position)
                        ]
                        continue
                    value = _FEATURES[name](token, message)
                    if value is not None:
                        values.append(f"{offset}:{name}:{value}")
            rows.append(values)
        return rows

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

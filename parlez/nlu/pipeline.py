"""Pipeline: the configured NLU components, trained and applied in order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from parlez.config import ComponentConfig
from parlez.diagnostics import warn
from parlez.exceptions import ParlezError
from parlez.io.part_folders import read_parts, write_parts
from parlez.memory import release_freed_memory
from parlez.nlu.component import Component
from parlez.nlu.features import MessageFeatures, split_features
from parlez.nlu.message import Message
from parlez.progress import StepProgress
from parlez.registry import components
from parlez.training_data.training_data import TrainingData

#: Longer messages are cut here before parsing; nobody types more into a chat.
MAX_MESSAGE_CHARS = 10_000

_PROVIDER_HINTS = {
    "tokens": "put a tokenizer such as WhitespaceTokenizer first",
    "features": "add a featurizer such as CountVectorsFeaturizer before it",
    "intent": "add an intent classifier before it",
    "entities": "add an entity extractor before it",
    "spacy_doc": "put SpacyNLP first",
}


#: the manifest of the pipeline's component folders
PIPELINE_FILE = "pipeline.json"


class PipelineOrderError(ParlezError):
    code = "P182"


class Pipeline:
    def __init__(self, steps: Sequence[Component], language: str = "en") -> None:
        self.steps = list(steps)
        self.language = language
        for index, component in enumerate(self.steps):
            component.key = f"{index:02d}_{component.name}"
            component.language = language

    @classmethod
    def from_config(cls, items: Sequence[ComponentConfig], language: str = "en") -> Pipeline:
        """Components by their config.yml names; an unknown name is an error with suggestions."""
        steps = [
            components.get(item.name, item.location).create(
                item.params, item.location, item.param_locations
            )
            for item in items
        ]
        given: set[str] = set()
        for item, step in zip(items, steps, strict=True):
            missing = [need for need in step.needs if need not in given]
            if missing:
                raise PipelineOrderError(
                    f"{step.name} needs {' and '.join(missing)} from a component before it in the pipeline",
                    item.location,
                    hint=_PROVIDER_HINTS[missing[0]],
                )
            given.update(step.gives)
        return cls(steps, language)

    def train(self, data: TrainingData, progress: StepProgress | None = None) -> Pipeline:
        """Train each component in turn; `progress` is told of each as it starts (its name,
        its number from 1, how many there are)."""
        check_training_data(data)
        messages = [Message.from_example(example) for example in data.examples]
        for index, component in enumerate(self.steps):
            if progress is not None:
                progress(type(component).__name__, index + 1, len(self.steps))
            component.train(data, messages)
            later_need_output = index < len(self.steps) - 1
            if component.process_training_data and later_need_output:
                component.process(messages)
                release_freed_memory()  # featurizing in batches leaves freed blocks behind
        return self

    def process(self, messages: Sequence[Message]) -> None:
        for component in self.steps:
            component.process(messages)

    def parse(self, text: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """Rasa's parse result for one text; any text gives a result, never an error."""
        message = Message(_clean(text), metadata=dict(metadata or {}))
        self.process([message])
        result = message.parse_result()
        result["text"] = text
        return result

    def text_features(self, text: str) -> MessageFeatures | None:
        """What the pipeline's tokenizers and featurizers make of `text` (the dialogue
        policies read end-to-end stories' user text this way), or None if they give nothing."""
        message = Message(_clean(text))
        for component in self.steps:
            if component.gives and not set(component.gives) & {"intent", "entities"}:
                component.process([message])
        return split_features(message) if message.features else None

    def persist(self, path: Path) -> None:
        parts = [(component.key, component) for component in self.steps]
        write_parts(path, PIPELINE_FILE, "components", parts, language=self.language)

    @classmethod
    def load(cls, path: Path) -> Pipeline:
        steps, manifest = read_parts(
            path,
            PIPELINE_FILE,
            "components",
            lambda name, folder, config: components.get(name).load(folder, config),
            ParlezError(f"no NLU pipeline in '{path}'", hint="train one with `parlez train nlu`"),
        )
        return cls(steps, manifest.get("language", "en"))


def _clean(text: str) -> str:
    """Control characters become spaces and very long texts are cut; offsets stay valid."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_MESSAGE_CHARS]
    return "".join(
        " " if (ord(c) < 32 and c not in "\t\n\r") or 0x7F <= ord(c) < 0xA0 else c for c in text
    )


def check_training_data(data: TrainingData) -> None:
    """Warnings about data that trains a poor model, each naming where to look."""
    counts = data.examples_per_intent()
    if len(counts) == 1:
        (intent,) = counts
        warn(
            "P193",
            f"the training data has a single intent ('{intent}'): every message will be classified as it",
            hint="add examples of the other things users say",
        )
    first_seen: dict[str, Any] = {}
    for example in data.examples:
        if example.full_intent:
            first_seen.setdefault(example.full_intent, example.location)
        for entity in example.entities:
            surface = example.text[entity.start : entity.end]
            if not (0 <= entity.start < entity.end <= len(example.text)) or not surface.strip():
                warn(
                    "P194",
                    f"the entity '{entity.entity}' at {entity.start}-{entity.end} does not match the text of {example.text!r}",
                    example.location,
                    hint="fix the annotation's start and end",
                )
            elif surface != surface.strip():
                warn(
                    "P195",
                    f"the entity '{entity.entity}' ({surface!r}) starts or ends with a space",
                    example.location,
                    hint="annotate the word without the space",
                )
    for intent, count in counts.items():
        if count == 1:
            warn(
                "P196",
                f"the intent '{intent}' has only one example",
                first_seen.get(intent),
                hint="add a few more ways to say it",
            )

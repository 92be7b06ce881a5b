"""RegexEntityExtractor: entities wherever a regex or lookup table named after them matches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.nlu.patterns import Pattern, compile_pattern, training_patterns
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData


@register_component("RegexEntityExtractor")
class RegexEntityExtractor(Component):
    defaults = {
        "case_sensitive": False,
        "use_lookup_tables": True,
        "use_regexes": True,
        "use_word_boundaries": True,
    }
    gives = ("entities",)

    def train(self, data: TrainingData, messages: Sequence[Message]) -> RegexEntityExtractor:
        entities = data.entities
        # Only patterns named after an annotated entity extract anything, as in Rasa.
        self.patterns_ = [
            p
            for p in training_patterns(
                data,
                use_regexes=self.config["use_regexes"],
                use_lookup_tables=self.config["use_lookup_tables"],
                word_boundaries=self.config["use_word_boundaries"],
            )
            if p.name in entities
        ]
        return self

    def process(self, messages: Sequence[Message]) -> None:
        compiled = [
            (p.name, compile_pattern(p.pattern, self.config["case_sensitive"]))
            for p in self.patterns_
        ]
        for message in messages:
            found = []
            for name, regex in compiled:
                for match in regex.finditer(message.text):
                    if match.start() == match.end():
                        continue
                    found.append(
                        {
                            "entity": name,
                            "start": match.start(),
                            "end": match.end(),
                            "value": match.group(0),
                            "extractor": self.name,
                        }
                    )
            message.entities = message.entities + found

    def state(self) -> dict[str, Any]:
        return {"patterns": [[p.name, p.pattern] for p in self.patterns_]}

    def set_state(self, state: dict[str, Any]) -> None:
        self.patterns_ = [Pattern(name, pattern) for name, pattern in state["patterns"]]

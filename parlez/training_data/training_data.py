"""TrainingData: the NLU examples of a project with its synonyms, regexes and lookup tables."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from parlez.exceptions import Location
from parlez.training_data.example import Example


@dataclass
class RegexFeature:
    name: str
    pattern: str
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass
class LookupTable:
    name: str
    elements: list[str]
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass
class TrainingData:
    """Everything NLU learns from, merged across all the project's data files."""

    examples: list[Example] = field(default_factory=list)
    #: synonym text as written -> canonical value (matching ignores case, as in Rasa)
    entity_synonyms: dict[str, str] = field(default_factory=dict)
    regex_features: list[RegexFeature] = field(default_factory=list)
    lookup_tables: list[LookupTable] = field(default_factory=list)
    #: retrieval-intent responses found in data files (`utter_faq/ask_hours`)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def merge(self, *others: TrainingData) -> TrainingData:
        merged = TrainingData(
            list(self.examples),
            dict(self.entity_synonyms),
            list(self.regex_features),
            list(self.lookup_tables),
            dict(self.responses),
        )
        for other in others:
            merged.examples.extend(other.examples)
            merged.entity_synonyms.update(other.entity_synonyms)
            merged.regex_features.extend(other.regex_features)
            merged.lookup_tables.extend(other.lookup_tables)
            merged.responses.update(other.responses)
        return merged

    def texts(self) -> list[str]:
        return [m.text for m in self.examples]

    @property
    def intent_examples(self) -> list[Example]:
        return [m for m in self.examples if m.intent is not None]

    @property
    def intents(self) -> set[str]:
        return {m.intent for m in self.examples if m.intent is not None}

    @property
    def retrieval_intents(self) -> set[str]:
        return {m.intent for m in self.examples if m.intent and m.intent_response_key}

    @property
    def entities(self) -> set[str]:
        return {e.entity for m in self.examples for e in m.entities}

    @property
    def entity_roles(self) -> dict[str, set[str]]:
        roles: dict[str, set[str]] = defaultdict(set)
        for m in self.examples:
            for e in m.entities:
                if e.role is not None:
                    roles[e.entity].add(e.role)
        return dict(roles)

    @property
    def entity_groups(self) -> dict[str, set[str]]:
        groups: dict[str, set[str]] = defaultdict(set)
        for m in self.examples:
            for e in m.entities:
                if e.group is not None:
                    groups[e.entity].add(e.group)
        return dict(groups)

    def examples_per_intent(self) -> Counter[str]:
        return Counter(m.full_intent for m in self.examples if m.full_intent is not None)

    def is_empty(self) -> bool:
        return not (
            self.examples
            or self.entity_synonyms
            or self.regex_features
            or self.lookup_tables
            or self.responses
        )

    def annotated_synonyms(self) -> dict[str, str]:
        """Synonyms implied by annotations such as `[NYC](city:New York)`."""
        found: dict[str, str] = {}
        for m in self.examples:
            for e in m.entities:
                surface = m.text[e.start : e.end]
                if isinstance(e.value, str) and surface != e.value:
                    found[surface] = e.value
        return found

    def split(self, train_fraction: float, seed: int = 42) -> tuple[TrainingData, TrainingData]:
        """A stratified split: each intent keeps its share on both sides.

        Every intent with at least two examples keeps at least one on each side, so a
        test set never names an intent the model was not trained on.
        """
        rng = random.Random(seed)
        by_intent: dict[str | None, list[Example]] = defaultdict(list)
        for m in self.examples:
            by_intent[m.full_intent].append(m)
        train: list[Example] = []
        test: list[Example] = []
        for intent in sorted(by_intent, key=lambda i: i or ""):
            items = list(by_intent[intent])
            rng.shuffle(items)
            cut = round(len(items) * train_fraction)
            if len(items) > 1:
                cut = min(max(cut, 1), len(items) - 1)
            train.extend(items[:cut])
            test.extend(items[cut:])
        # Synonyms, regexes, lookups and responses are knowledge, not examples: both keep them.
        common = (self.entity_synonyms, self.regex_features, self.lookup_tables, self.responses)
        return (
            TrainingData(train, dict(common[0]), list(common[1]), list(common[2]), dict(common[3])),
            TrainingData(test, dict(common[0]), list(common[1]), list(common[2]), dict(common[3])),
        )

    @classmethod
    def concat(cls, parts: Iterable[TrainingData]) -> TrainingData:
        return cls().merge(*parts)

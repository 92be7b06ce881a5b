"""NLU evaluation: intent and entity results against labelled data, as `rasa test nlu` reports."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parlez.nlu.message import Message
from parlez.nlu.pipeline import Pipeline
from parlez.training_data.training_data import TrainingData

Span = tuple[int, int, str]


@dataclass
class IntentResult:
    text: str
    target: str
    prediction: str | None
    confidence: float


@dataclass
class EntityResult:
    text: str
    gold: list[dict[str, Any]]
    predicted: dict[str, list[dict[str, Any]]]  # extractor -> its entities


@dataclass
class NLUEvaluation:
    intents: list[IntentResult] = field(default_factory=list)
    entities: list[EntityResult] = field(default_factory=list)
    #: retrieval intents: the response key (`faq/ask_hours`) against the selector's choice
    responses: list[IntentResult] = field(default_factory=list)

    def extend(self, other: NLUEvaluation) -> None:
        self.intents += other.intents
        self.entities += other.entities
        self.responses += other.responses

    @property
    def extractors(self) -> list[str]:
        return sorted({name for r in self.entities for name in r.predicted})

    @property
    def has_entities(self) -> bool:
        return any(r.gold for r in self.entities)


def evaluate(pipeline: Pipeline, data: TrainingData) -> NLUEvaluation:
    """Run the pipeline over every labelled example and keep what it predicted."""
    messages = [Message(example.text) for example in data.examples]
    for start in range(0, len(messages), 512):
        pipeline.process(messages[start : start + 512])
    result = NLUEvaluation()
    extractors = {
        c.name for c in pipeline.steps if "entities" in c.gives and "entities" not in c.needs
    }
    for example, message in zip(data.examples, messages, strict=True):
        if example.intent is not None:
            predicted = message.intent or {}
            result.intents.append(
                IntentResult(
                    example.text,
                    example.intent,
                    predicted.get("name"),
                    float(predicted.get("confidence") or 0.0),
                )
            )
        if example.intent_response_key and message.response_selector:
            result.responses.append(
                _selected(example.text, example.intent_response_key, message.response_selector)
            )
        by_extractor: dict[str, list[dict[str, Any]]] = {name: [] for name in extractors}
        for entity in message.entities:
            by_extractor.setdefault(str(entity.get("extractor")), []).append(entity)
        result.entities.append(
            EntityResult(example.text, [e.to_dict() for e in example.entities], by_extractor)
        )
    return result


def _selected(text: str, target: str, selector: dict[str, Any]) -> IntentResult:
    """The selector's answer for the message's retrieval intent (or the default selector)."""
    intent = target.split("/")[0]
    chosen = selector.get(intent) or selector.get("default") or {}
    response = chosen.get("response", {})
    return IntentResult(
        text, target, response.get("intent_response_key"), float(response.get("confidence") or 0.0)
    )


def cross_validate(
    make: Any, data: TrainingData, folds: int, seed: int = 42
) -> tuple[NLUEvaluation, list[dict[str, float]]]:
    """Train `make()` on k-1 folds and evaluate on the held-out one, for each fold."""
    from sklearn.model_selection import StratifiedKFold  # see intent_report

    labelled = [e for e in data.examples if e.intent is not None]
    labels = [e.intent for e in labelled]
    counts = Counter(labels)
    usable_folds = max(2, min(folds, min(counts.values()))) if counts else 2
    splitter = StratifiedKFold(n_splits=usable_folds, shuffle=True, random_state=seed)
    combined = NLUEvaluation()
    per_fold = []
    for train_index, test_index in splitter.split(np.zeros(len(labels)), labels):
        common = (data.entity_synonyms, data.regex_features, data.lookup_tables, data.responses)
        train = TrainingData([labelled[i] for i in train_index], *common)
        test = TrainingData([labelled[i] for i in test_index], *common)
        pipeline = make().train(train)
        fold = evaluate(pipeline, test)
        combined.extend(fold)
        per_fold.append(intent_summary(fold))
    return combined, per_fold


# ---- reports --------------------------------------------------------------------------------


def intent_report(results: list[IntentResult]) -> dict[str, Any]:
    """scikit-learn's classification report, plus what each intent was confused with."""
    # Imported when a report is asked for: the server imports this module for its test
    # routes, and importing scikit-learn took a second of every start.
    from sklearn.metrics import classification_report

    targets = [r.target for r in results]
    predictions = [r.prediction or "None" for r in results]
    report: dict[str, Any] = classification_report(
        targets, predictions, output_dict=True, zero_division=0
    )
    confused: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        if r.prediction != r.target:
            confused[r.target][r.prediction or "None"] += 1
    for label, row in report.items():
        if isinstance(row, dict) and label not in ("macro avg", "weighted avg", "micro avg"):
            row["confused_with"] = dict(confused[label].most_common(2))
    return report


def intent_errors(results: list[IntentResult]) -> list[dict[str, Any]]:
    return [
        {
            "text": r.text,
            "intent": r.target,
            "intent_prediction": {"name": r.prediction, "confidence": r.confidence},
        }
        for r in results
        if r.prediction != r.target
    ]


def intent_summary(evaluation: NLUEvaluation) -> dict[str, float]:
    if not evaluation.intents:
        return {}
    report = intent_report(evaluation.intents)
    return {
        "accuracy": float(report["accuracy"]),
        "macro_f1": float(report["macro avg"]["f1-score"]),
        "weighted_f1": float(report["weighted avg"]["f1-score"]),
    }


def _spans(entities: list[dict[str, Any]]) -> set[Span]:
    return {(int(e["start"]), int(e["end"]), str(e["entity"])) for e in entities}


def entity_report(evaluation: NLUEvaluation, extractor: str) -> dict[str, Any]:
    """Exact-span precision, recall and F1 per entity type (conlleval's measure)."""
    true_positive: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    support: Counter[str] = Counter()
    for result in evaluation.entities:
        gold = _spans(result.gold)
        guess = _spans(result.predicted.get(extractor, []))
        for span in gold:
            support[span[2]] += 1
        for span in guess:
            predicted[span[2]] += 1
            if span in gold:
                true_positive[span[2]] += 1
    report: dict[str, Any] = {}
    for label in sorted(set(support) | set(predicted)):
        report[label] = _prf(true_positive[label], predicted[label], support[label])
    total = _prf(sum(true_positive.values()), sum(predicted.values()), sum(support.values()))
    report["micro avg"] = total
    rows = [report[label] for label in report if label != "micro avg"]
    if rows:
        report["macro avg"] = {
            key: float(np.mean([r[key] for r in rows]))
            for key in ("precision", "recall", "f1-score")
        } | {"support": int(sum(r["support"] for r in rows))}
        weight = sum(r["support"] for r in rows) or 1
        report["weighted avg"] = {
            key: float(sum(r[key] * r["support"] for r in rows) / weight)
            for key in ("precision", "recall", "f1-score")
        } | {"support": int(sum(r["support"] for r in rows))}
    return report


def _prf(hits: int, predicted: int, support: int) -> dict[str, Any]:
    precision = hits / predicted if predicted else 0.0
    recall = hits / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1-score": f1, "support": support}


def entity_errors(evaluation: NLUEvaluation, extractor: str) -> list[dict[str, Any]]:
    errors = []
    for result in evaluation.entities:
        predicted = result.predicted.get(extractor, [])
        if _spans(result.gold) != _spans(predicted):
            errors.append(
                {"text": result.text, "entities": result.gold, "predicted_entities": predicted}
            )
    return errors

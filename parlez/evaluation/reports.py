"""Writing evaluation results to `results/` with Rasa's file names, and the plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from parlez.evaluation.nlu import (
    NLUEvaluation,
    entity_errors,
    entity_report,
    intent_errors,
    intent_report,
)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_nlu_reports(
    evaluation: NLUEvaluation, out: Path, *, successes: bool = False, plots: bool = True
) -> list[Path]:
    """intent_report.json, intent_errors.json, the two plots (unless not `plots`), and per
    extractor its report."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if evaluation.intents:
        _write_json(out / "intent_report.json", intent_report(evaluation.intents))
        _write_json(out / "intent_errors.json", intent_errors(evaluation.intents))
        written += [out / "intent_report.json", out / "intent_errors.json"]
        if successes:
            hits = [
                {
                    "text": r.text,
                    "intent": r.target,
                    "intent_prediction": {"name": r.prediction, "confidence": r.confidence},
                }
                for r in evaluation.intents
                if r.prediction == r.target
            ]
            _write_json(out / "intent_successes.json", hits)
            written.append(out / "intent_successes.json")
        if plots:
            written += plot_confusion_matrix(evaluation, out / "intent_confusion_matrix.png")
            written += plot_histogram(evaluation, out / "intent_histogram.png")
    if evaluation.responses:
        _write_json(out / "response_selection_report.json", intent_report(evaluation.responses))
        errors = [
            {
                "text": r.text,
                "intent_response_key_target": r.target,
                "intent_response_key_prediction": {
                    "name": r.prediction,
                    "confidence": r.confidence,
                },
            }
            for r in evaluation.responses
            if r.prediction != r.target
        ]
        _write_json(out / "response_selection_errors.json", errors)
        written += [out / "response_selection_report.json", out / "response_selection_errors.json"]
    if evaluation.has_entities:
        for extractor in evaluation.extractors:
            _write_json(out / f"{extractor}_report.json", entity_report(evaluation, extractor))
            _write_json(out / f"{extractor}_errors.json", entity_errors(evaluation, extractor))
            written += [out / f"{extractor}_report.json", out / f"{extractor}_errors.json"]
    return written


def plot_confusion_matrix(evaluation: NLUEvaluation, path: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    targets = [r.target for r in evaluation.intents]
    predictions = [r.prediction or "None" for r in evaluation.intents]
    labels = sorted(set(targets) | set(predictions))
    matrix = confusion_matrix(targets, predictions, labels=labels)
    size = min(4 + 0.35 * len(labels), 40)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues", interpolation="nearest")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted intent")
    axes.set_ylabel("true intent")
    axes.set_title("Intent confusion matrix")
    if len(labels) <= 30:
        for i, j in zip(*np.nonzero(matrix), strict=True):
            axes.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if matrix[i, j] > matrix.max() / 2 else "black",
            )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return [path]


def plot_histogram(evaluation: NLUEvaluation, path: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hits = [r.confidence for r in evaluation.intents if r.prediction == r.target]
    misses = [r.confidence for r in evaluation.intents if r.prediction != r.target]
    bins = [i / 20 for i in range(21)]
    figure, axes = plt.subplots(figsize=(8, 5))
    axes.hist(
        [hits, misses],
        bins=bins,
        label=["correct", "wrong"],
        color=["#2e7d32", "#c62828"],
        stacked=False,
    )
    axes.set_xlabel("confidence")
    axes.set_ylabel("number of examples")
    axes.set_title("Intent prediction confidence")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return [path]

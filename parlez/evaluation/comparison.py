"""Comparing NLU configs at several training-set sizes (`parlez test nlu --percentages`)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from parlez.config import Config
from parlez.diagnostics import collect
from parlez.evaluation.nlu import evaluate, intent_summary
from parlez.nlu.pipeline import Pipeline
from parlez.training_data.training_data import TrainingData


def compare_configs(
    configs: list[Path],
    data: TrainingData,
    percentages: list[int],
    runs: int,
    out: Path,
    seed: int = 42,
    plot: bool = True,
) -> dict[str, Any]:
    """For each run: hold out 20 % for testing, then train every config on the rest with
    each percentage of it excluded. Returns and writes the weighted intent F1 of each."""
    results: dict[str, list[list[float]]] = {config.stem: [] for config in configs}
    sizes: list[int] = []
    for run in range(runs):
        train, test = data.split(0.8, seed=seed + run)
        scores: dict[str, list[float]] = {config.stem: [] for config in configs}
        sizes = []
        for percentage in percentages:
            subset = (
                train
                if percentage <= 0
                else train.split((100 - percentage) / 100, seed=seed + run)[0]
            )
            sizes.append(len(subset.examples))
            for config_path in configs:
                config = Config.load(config_path)
                with collect():
                    pipeline = Pipeline.from_config(config.pipeline, config.language).train(subset)
                scores[config_path.stem].append(
                    intent_summary(evaluate(pipeline, test)).get("weighted_f1", 0.0)
                )
        for name, row in scores.items():
            results[name].append(row)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "percentages_excluded": percentages,
        "training_examples": sizes,
        "weighted_f1": results,
    }
    (out / "nlu_model_comparison_results.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    if plot:
        _plot(report, out / "nlu_model_comparison_graph.pdf")
    return report


def _plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for name, runs in report["weighted_f1"].items():
        means = [statistics.mean(column) for column in zip(*runs, strict=True)]
        spread = [statistics.pstdev(column) for column in zip(*runs, strict=True)]
        axes.errorbar(
            report["training_examples"], means, yerr=spread, marker="o", capsize=3, label=name
        )
    axes.set_xlabel("number of training examples")
    axes.set_ylabel("intent F1 (weighted)")
    axes.set_title("NLU configurations at several training-set sizes")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)

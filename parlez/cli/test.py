"""`parlez test nlu`: evaluate NLU on test data or by cross-validation; reports in `results/`."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from parlez.cli.usage import shows_help
from parlez.diagnostics import collect
from parlez.evaluation.comparison import compare_configs
from parlez.evaluation.nlu import (
    NLUEvaluation,
    cross_validate,
    entity_report,
    evaluate,
    intent_summary,
)
from parlez.evaluation.reports import write_nlu_reports
from parlez.exceptions import relative
from parlez.model import require_model
from parlez.nlu.pipeline import Pipeline
from parlez.project import Project, read_data
from parlez.training import load_nlu


def _summary(
    console: Console, evaluation: NLUEvaluation, folds: list[dict[str, float]] | None = None
) -> None:
    table = Table(title="NLU evaluation")
    table.add_column("part")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in intent_summary(evaluation).items():
        shown = f"{value:.4f}"
        if folds:
            spread = statistics.pstdev(f[key] for f in folds)
            shown += f" ± {spread:.4f}"
        table.add_row("intents", key, shown)
    if evaluation.has_entities:
        for extractor in evaluation.extractors:
            micro = entity_report(evaluation, extractor)["micro avg"]
            for key in ("precision", "recall", "f1-score"):
                table.add_row(extractor, key, f"{micro[key]:.4f}")
    console.print(table)


def run_nlu(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    out = Path(args.out)
    if args.percentages:
        project = Project(args.project, data=args.nlu)
        configs = [Path(c) for c in args.config or [str(project.config_path)]]
        report = compare_configs(configs, project.training_data, args.percentages, args.runs, out)
        table = Table(title="Weighted intent F1 by training examples")
        table.add_column("config")
        for size in report["training_examples"]:
            table.add_column(str(size), justify="right")
        for name, runs in report["weighted_f1"].items():
            table.add_row(
                name, *(f"{statistics.mean(column):.4f}" for column in zip(*runs, strict=True))
            )
        console.print(table)
        console.print(f"Wrote the comparison to '{relative(out)}'.")
        return 0
    if args.cross_validation:
        project = Project(
            args.project, config=args.config[0] if args.config else None, data=args.nlu
        )
        config = project.config
        with collect():
            evaluation, folds = cross_validate(
                lambda: Pipeline.from_config(config.pipeline, config.language),
                project.training_data,
                args.folds,
            )
        written = write_nlu_reports(evaluation, out, successes=args.successes)
        _summary(console, evaluation, folds)
    else:
        archive = require_model(Path(args.model))
        pipeline = load_nlu(archive)
        test = read_data([Path(p) for p in args.nlu or ["data"]])
        evaluation = evaluate(pipeline, test.nlu)
        written = write_nlu_reports(evaluation, out, successes=args.successes)
        console.print(f"Model: '{relative(archive)}'")
        _summary(console, evaluation)
    console.print(f"Wrote {len(written)} files to '{relative(out)}'.")
    return 0


def register(commands: Any) -> None:
    test = commands.add_parser("test", help="evaluate models")
    sub = test.add_subparsers(dest="test_what", metavar="WHAT")
    nlu = sub.add_parser("nlu", help="evaluate the NLU model")
    nlu.add_argument("--project", default=".", help="project folder (default: here)")
    nlu.add_argument("-m", "--model", default="models", help="model archive or folder of archives")
    nlu.add_argument("-u", "--nlu", nargs="+", default=None, help="test data files or folders")
    nlu.add_argument(
        "-c",
        "--config",
        nargs="+",
        default=None,
        help="config(s) for cross-validation or --percentages",
    )
    nlu.add_argument(
        "--percentages",
        type=int,
        nargs="+",
        default=None,
        help="compare configs with these %% of training data excluded",
    )
    nlu.add_argument(
        "--runs", type=int, default=3, help="repetitions of the --percentages comparison"
    )
    nlu.add_argument(
        "--cross-validation", action="store_true", help="train and test on k folds of the data"
    )
    nlu.add_argument("-f", "--folds", type=int, default=5)
    nlu.add_argument("--out", default="results", help="folder for the reports")
    nlu.add_argument("--successes", action="store_true", help="also write intent_successes.json")
    nlu.set_defaults(handler=run_nlu)

    test.set_defaults(handler=shows_help(test))

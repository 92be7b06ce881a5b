"""`parlez test [core|nlu]`: replay test stories, evaluate NLU; reports in `results/`."""

from __future__ import annotations

import argparse
import asyncio
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from parlez.cli.commands import help_of
from parlez.diagnostics import collect
from parlez.exceptions import relative
from parlez.model import require_model
from parlez.project import DataFiles, Project, read_data, read_data_file

if TYPE_CHECKING:
    from parlez.evaluation.nlu import NLUEvaluation
    from parlez.evaluation.stories import StoryEvaluation

# Evaluating loads scikit-learn and torch: imported by the commands that evaluate, so that
# `parlez test --help` answers at once.


def _summary(
    console: Console, evaluation: NLUEvaluation, folds: list[dict[str, float]] | None = None
) -> None:
    from parlez.evaluation.nlu import entity_report, intent_summary

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
    from parlez.evaluation.comparison import compare_configs
    from parlez.evaluation.nlu import cross_validate, evaluate
    from parlez.evaluation.reports import write_nlu_reports
    from parlez.nlu.pipeline import Pipeline
    from parlez.training import load_nlu

    console = Console(highlight=False)
    out = Path(args.out)
    if args.percentages:
        project = Project(args.project, data=args.nlu)
        configs = [Path(c) for c in args.config or [str(project.config_path)]]
        report = compare_configs(
            configs,
            project.training_data,
            args.percentages,
            args.runs,
            out,
            plot=not args.no_plot,
        )
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
        written = write_nlu_reports(
            evaluation, out, successes=args.successes, plots=not args.no_plot
        )
        _summary(console, evaluation, folds)
    else:
        archive = require_model(Path(args.model))
        pipeline = load_nlu(archive)
        if not args.nlu:
            # As Rasa does; said, because figures near 1.0 here say little.
            console.print(
                "No test data given (--nlu): scoring the training data in data/, which the "
                "model learnt from. For a fair figure: --cross-validation, or `parlez data "
                "split nlu` then --nlu train_test_split/test_data.yml."
            )
        test = read_data([Path(p) for p in args.nlu or ["data"]])
        evaluation = evaluate(pipeline, test.nlu)
        written = write_nlu_reports(
            evaluation, out, successes=args.successes, plots=not args.no_plot
        )
        console.print(f"Model: '{relative(archive)}'")
        _summary(console, evaluation)
    console.print(f"Wrote {len(written)} files to '{relative(out)}'.")
    return 0


def _test_stories(paths: list[str] | None, project: Project) -> list[Any]:
    if not paths:
        return project.test_stories
    files = DataFiles()
    for path in [Path(p) for p in paths]:
        found = (
            sorted(path.rglob("*.yml")) + sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        )
        for item in found:
            read_data_file(item, files)
    return files.stories + files.rules


def _story_summary(console: Console, evaluation: StoryEvaluation) -> None:
    total = len(evaluation.stories)
    correct = total - len(evaluation.failed)
    targets = evaluation.action_targets
    right = sum(t == p for t, p in zip(targets, evaluation.action_predictions, strict=True))
    table = Table(title="Test stories")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("stories passed", f"{correct} / {total}")
    table.add_row("actions predicted right", f"{right} / {len(targets)}")
    console.print(table)
    for story in evaluation.failed:
        where = f" ({story.location})" if story.location else ""
        console.print(f"[red]failed:[/] {story.name}{where}")


def run_core(args: argparse.Namespace) -> int:
    from parlez.agent import Agent
    from parlez.evaluation.stories import evaluate_stories, write_story_reports

    console = Console(highlight=False)
    project = Project(args.project)
    archive = require_model(Path(args.model))
    agent = Agent.load(archive)
    stories = _test_stories(args.stories, project)
    if not stories:
        console.print("[yellow]No test stories found[/] (tests/test_*.yml).")
        return 1
    evaluation = asyncio.run(evaluate_stories(agent, stories))
    out = Path(args.out)
    written = write_story_reports(evaluation, out, successes=args.successes, plots=not args.no_plot)
    console.print(f"Model: '{relative(archive)}'")
    _story_summary(console, evaluation)
    console.print(f"Wrote {len(written)} files to '{relative(out)}'.")
    if evaluation.failed and args.fail_on_prediction_errors:
        return 1
    return 0


def run_all(args: argparse.Namespace) -> int:
    """`parlez test`: the test stories, then the NLU model on the NLU data."""
    status = run_core(args)
    nlu_args = argparse.Namespace(
        project=args.project,
        model=args.model,
        nlu=args.nlu,
        config=None,
        percentages=None,
        cross_validation=False,
        out=args.out,
        successes=args.successes,
        no_plot=args.no_plot,
    )
    return max(status, run_nlu(nlu_args))


def _core_arguments(parser: Any) -> None:
    parser.add_argument("--project", default=".", help="project folder (default: here)")
    parser.add_argument(
        "-m", "--model", default="models", help="model archive or folder of archives"
    )
    parser.add_argument(
        "-s",
        "--stories",
        nargs="+",
        default=None,
        help="test story files or folders (default: tests/)",
    )
    parser.add_argument("--out", default="results", help="folder for the reports")
    parser.add_argument(
        "--successes", action="store_true", help="also write the stories that passed"
    )
    parser.add_argument(
        "--fail-on-prediction-errors",
        action="store_true",
        help="exit with status 1 when a story fails",
    )
    parser.add_argument(
        "--e2e", action="store_true", help="accepted for Rasa; user text is always checked"
    )
    parser.add_argument("--no-plot", action="store_true", help="write no .png plots")


def register(commands: Any) -> None:
    test = commands.add_parser("test", help=help_of("test"))
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
    nlu.add_argument("--no-plot", action="store_true", help="write no .png plots")
    nlu.set_defaults(handler=run_nlu)
    core = sub.add_parser("core", help="replay the test stories")
    _core_arguments(core)
    core.set_defaults(handler=run_core)

    _core_arguments(test)
    test.add_argument("-u", "--nlu", nargs="+", default=None, help="NLU test data (default: data/)")
    test.set_defaults(handler=run_all)

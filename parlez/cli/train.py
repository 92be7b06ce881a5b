"""`parlez train nlu`: train the NLU pipeline into a model archive in `models/`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from parlez.cli.progress import training_progress
from parlez.cli.usage import shows_help
from parlez.exceptions import relative
from parlez.project import Project
from parlez.training import train_nlu


def run_nlu(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    project = Project(args.project, config=args.config, data=args.nlu)
    with training_progress(console):
        result = train_nlu(
            project, Path(args.out), force=args.force, fixed_name=args.fixed_model_name
        )
    if result.reused:
        console.print(
            "The NLU data and pipeline are unchanged since the last model: its NLU part was reused."
        )
    console.print(f"Trained NLU model: '{relative(result.archive)}' ({result.seconds:.1f} s).")
    return 0


def register(commands: Any) -> None:
    train = commands.add_parser("train", help="train models")
    sub = train.add_subparsers(dest="train_what", metavar="WHAT")
    nlu = sub.add_parser("nlu", help="train the NLU pipeline")
    nlu.add_argument("--project", default=".", help="project folder (default: here)")
    nlu.add_argument("-c", "--config", default=None, help="config file")
    nlu.add_argument("-u", "--nlu", nargs="+", default=None, help="NLU data files or folders")
    nlu.add_argument("--out", default="models", help="folder for the model archive")
    nlu.add_argument("--fixed-model-name", default=None, help="archive name instead of a timestamp")
    nlu.add_argument("--force", action="store_true", help="retrain even when nothing changed")
    nlu.set_defaults(handler=run_nlu)

    train.set_defaults(handler=shows_help(train))

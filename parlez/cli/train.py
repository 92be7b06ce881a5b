"""`parlez train [nlu|core]`: train the assistant (or one part) into an archive in `models/`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from parlez.cli.commands import help_of
from parlez.cli.kb import describe_index
from parlez.cli.progress import training_progress
from parlez.exceptions import ParlezError, relative
from parlez.project import Project


def run_nlu(args: argparse.Namespace) -> int:
    from parlez.training import train_nlu  # torch: loaded for training, not for --help

    console = Console(highlight=False)
    project = Project(args.project, config=args.config, data=args.nlu)
    tell_defaults(console, project, ("pipeline",))
    with training_progress(console) as shown:
        result = train_nlu(
            project,
            Path(args.out),
            force=args.force,
            fixed_name=args.fixed_model_name,
            progress=shown,
        )
    if result.reused:
        console.print(
            "The NLU data and pipeline are unchanged since the last model: its NLU part was reused."
        )
    console.print(f"Trained NLU model: '{relative(result.archive)}' ({result.seconds:.1f} s).")
    return 0


def tell_defaults(console: Console, project: Project, parts: tuple[str, ...]) -> None:
    """Write the defaults chosen for a config.yml that leaves `parts` out into it, as
    comments, and say so (Rasa's training does both)."""
    from parlez.autoconfig import write_suggestions

    path = project.config_path
    try:
        written = write_suggestions(path, project.config, parts)
    except OSError as error:
        console.print(
            f"The defaults used for {' and '.join(project.config.defaulted)} could not be "
            f"written into '{relative(path)}' ({error.strerror or error}).",
            soft_wrap=True,
        )
        return
    if written:
        console.print(
            f"The configuration for {' and '.join(written)} was chosen automatically. It was "
            f"written into the config file at '{relative(path)}', as comments to start from.",
            soft_wrap=True,
        )


#: `parlez train --dry-run`'s exit codes, Rasa's bits: a part would be trained; forced
NEEDS_TRAINING, FORCED = 0b0001, 0b1000


def dry_run(console: Console, project: Project, models: Path, parts: tuple[str, ...]) -> int:
    """Say which parts a training would train and which it would reuse; nothing is trained.
    The exit code is Rasa's: 0 nothing to train, 1 something to train."""
    from parlez.training import stale_parts

    stale = stale_parts(project, models, parts)
    for part in parts:
        if part in stale:
            console.print(f"The {_PART_NAMES[part]} would be trained: what it learns from changed.")
        else:
            console.print(f"The {_PART_NAMES[part]} is up to date: it would be reused.")
    return NEEDS_TRAINING if stale else 0


def validated(console: Console, project: Project, args: argparse.Namespace) -> bool:
    """Rasa's check before training (`--skip-validation` skips it): what `parlez data
    validate` finds is printed; an error stops the training, and so does a warning with
    `--fail-on-validation-warnings`."""
    from parlez.cli.data import check_project, print_findings
    from parlez.validator import summarize

    findings, _ = check_project(project, args.validation_max_history)
    print_findings(console, findings)
    errors, warnings = summarize(findings)
    if errors or (warnings and args.fail_on_validation_warnings):
        console.print(
            f"[red]Nothing was trained: the data has {errors} error(s) and {warnings} "
            "warning(s).[/] Fix them, or train anyway with --skip-validation.",
            soft_wrap=True,
        )
        return False
    return True


def run_all(args: argparse.Namespace) -> int:
    """`parlez train` / `parlez train core`: the dialogue part, and NLU unless core only."""
    console = Console(highlight=False)
    if args.finetune is not None:
        raise FinetuneError(
            "parlez does not fine-tune a trained model (Rasa's --finetune)",
            hint="a training reuses each part whose data and settings did not change, and "
            "trains the others from the start: run `parlez train` without --finetune",
        )
    project = Project(args.project, config=args.config, data=args.data, domain=args.domain)
    parts = ("core",) if getattr(args, "train_what", None) == "core" else ("nlu", "core")
    if not args.skip_validation and not validated(console, project, args):
        return 1
    if args.augmentation is not None:
        project.config.set_augmentation(args.augmentation)
    if args.dry_run:
        if args.force:
            console.print("The training is forced (--force): every part would be trained.")
            return FORCED
        return dry_run(console, project, Path(args.out), parts)
    tell_defaults(
        console, project, ("policies",) if parts == ("core",) else ("pipeline", "policies")
    )
    from parlez.training import train

    with training_progress(console) as shown:
        result = train(
            project,
            Path(args.out),
            force=args.force,
            fixed_name=args.fixed_model_name,
            parts=parts,
            progress=shown,
        )
    for part in result.reused:
        console.print(f"The inputs of the {_PART_NAMES[part]} are unchanged: it was reused.")
    for part in result.trained:
        console.print(f"Trained the {_PART_NAMES[part]}.")
    console.print(f"Your model is ready: '{relative(result.archive)}' ({result.seconds:.1f} s).")
    if result.knowledge is not None:
        console.print(describe_index(result.knowledge))
    return 0


_PART_NAMES = {"nlu": "NLU pipeline", "core": "dialogue policies"}


class FinetuneError(ParlezError):
    code = "P172"


def _augmentation(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("the augmentation factor is 0 or more")
    return number


def _common(parser: Any, under: bool = False) -> None:
    """`train`'s options; `under` a subcommand (`train core`), they default to what was
    given before it (`parlez train --force core`), not to their own defaults."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if under else value

    parser.add_argument("--project", default=default("."), help="project folder (default: here)")
    parser.add_argument("-c", "--config", default=default(None), help="config file")
    parser.add_argument("-d", "--domain", default=default(None), help="domain file or folder")
    parser.add_argument(
        "--data", nargs="+", default=default(None), help="training data files or folders"
    )
    parser.add_argument("--out", default=default("models"), help="folder for the model archive")
    parser.add_argument(
        "--fixed-model-name", default=default(None), help="archive name instead of a timestamp"
    )
    for flag, text in (
        ("--force", "retrain even when nothing changed"),
        (
            "--dry-run",
            "say what would be trained, train nothing (exit 0: nothing, 1: something, 8: forced)",
        ),
        (
            "--skip-validation",
            "train without checking the data first (as `parlez data validate` does)",
        ),
        ("--fail-on-validation-warnings", "a warning of the check before training stops it too"),
    ):
        parser.add_argument(flag, action="store_true", default=default(False), help=text)
    parser.add_argument(
        "--validation-max-history",
        type=int,
        default=default(None),
        help="the history the check of story conflicts looks at (default: the policies')",
    )
    parser.add_argument(
        "--augmentation",
        type=_augmentation,
        default=default(None),
        metavar="N",
        help="stories glued together for TEDPolicy's training (its augmentation_factor)",
    )
    parser.add_argument(
        "--finetune",
        nargs="?",
        const="",
        default=default(None),
        metavar="MODEL",
        help="not supported: parlez reuses unchanged parts instead (docs/cli.md)",
    )


def register(commands: Any) -> None:
    train = commands.add_parser("train", help=help_of("train"))
    sub = train.add_subparsers(dest="train_what", metavar="WHAT")
    nlu = sub.add_parser("nlu", help="train the NLU pipeline")
    nlu.add_argument("--project", default=".", help="project folder (default: here)")
    nlu.add_argument("-c", "--config", default=None, help="config file")
    nlu.add_argument("-u", "--nlu", nargs="+", default=None, help="NLU data files or folders")
    nlu.add_argument("--out", default="models", help="folder for the model archive")
    nlu.add_argument("--fixed-model-name", default=None, help="archive name instead of a timestamp")
    nlu.add_argument("--force", action="store_true", help="retrain even when nothing changed")
    nlu.set_defaults(handler=run_nlu)
    core = sub.add_parser("core", help="train the dialogue policies")
    _common(core, under=True)
    core.set_defaults(handler=run_all)

    _common(train)
    train.set_defaults(handler=run_all)

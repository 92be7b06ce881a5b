"""`parlez data validate | split nlu | convert nlu | migrate`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from parlez import diagnostics
from parlez.cli.commands import help_of
from parlez.cli.usage import shows_help
from parlez.diagnostics import Diagnostic
from parlez.exceptions import ParlezError, relative
from parlez.migrate import migrate_domain_file
from parlez.nlu.pipeline import Pipeline
from parlez.project import Project, read_data
from parlez.training_data.nlu_json import write_nlu_json
from parlez.training_data.nlu_yaml import write_nlu_yaml
from parlez.validator import Validator, summarize


def print_findings(console: Console, findings: list[Diagnostic]) -> None:
    """Errors first, each as parlez writes every problem (`problem_text`), its level in
    colour."""
    for finding in sorted(findings, key=lambda f: (f.level != "error", str(f.where or ""))):
        colour = "red" if finding.level == "error" else "yellow"
        level, rest = finding.render().split(" ", 1)
        console.print(f"[{colour}]{level}[/] {escape(rest)}", soft_wrap=True)


def check_project(
    project: Project, max_history: int | None = None
) -> tuple[list[Diagnostic], bool]:
    """What `parlez data validate` finds in `project` (also run before `parlez train`),
    and whether its config, domain and data could be read at all."""
    findings: list[Diagnostic] = []
    with diagnostics.collect() as warnings:
        failed: set[str] = set()
        for part in ("config", "domain", "data", "test_stories", "endpoints", "credentials"):
            try:
                getattr(project, part)
            except ParlezError as error:
                findings.append(Diagnostic.from_error(error))
                failed.add(part)
        if "config" not in failed:
            try:
                # Resolving the pipeline's names catches typos before a long training run does.
                Pipeline.from_config(project.config.pipeline, project.config.language)
            except ParlezError as error:
                findings.append(Diagnostic.from_error(error))
        loaded = not failed & {"config", "domain", "data"}
        if loaded:
            if max_history is None:
                max_history = project.config.max_history()
            validator = Validator.for_project(project)
            findings += validator.run(max_history=max_history)
    # A file that fails to load is found by each check that reads it: say it once.
    return list(dict.fromkeys([*warnings, *findings])), loaded


def validate(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    project = Project(args.project, domain=args.domain, config=args.config, data=args.data)
    findings, loaded = check_project(project, args.max_history)
    print_findings(console, findings)
    errors, warning_count = summarize(findings)
    nlu = project.training_data if loaded else None
    if nlu is not None:
        console.print(
            f"Read {len(project.domain.intents)} intents, {len(nlu.examples)} examples, "
            f"{len(project.stories)} stories, {len(project.rules)} rules, "
            f"{len(project.test_stories)} test stories."
        )
    if errors or (warning_count and args.fail_on_warnings):
        console.print(f"[red]{errors} error(s), {warning_count} warning(s).[/]")
        return 1
    console.print(f"[green]The project is valid[/] ({warning_count} warning(s)).")
    return 0


def split_nlu(args: argparse.Namespace) -> int:
    files = read_data([Path(p) for p in args.nlu])
    train, test = files.nlu.split(args.training_fraction, seed=args.random_seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "json" if args.format == "json" else "yml"
    writer = write_nlu_json if args.format == "json" else write_nlu_yaml
    (out / f"training_data.{suffix}").write_text(writer(train), encoding="utf-8")
    (out / f"test_data.{suffix}").write_text(writer(test), encoding="utf-8")
    Console(highlight=False).print(
        f"Wrote {len(train.examples)} training and {len(test.examples)} test examples to '{relative(out)}'."
    )
    return 0


def convert_nlu(args: argparse.Namespace) -> int:
    source = Path(args.data)
    files = read_data([source], args.language)
    fmt = args.format
    text = write_nlu_json(files.nlu) if fmt == "json" else write_nlu_yaml(files.nlu)
    out = Path(args.out)
    if out.suffix in (".yml", ".yaml", ".json"):
        target = out
    else:
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{source.stem}_converted.{'json' if fmt == 'json' else 'yml'}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    Console(highlight=False).print(
        f"Converted {len(files.nlu.examples)} examples to '{relative(target)}'."
    )
    return 0


def migrate(args: argparse.Namespace) -> int:
    out, backup = migrate_domain_file(Path(args.domain), Path(args.out) if args.out else None)
    Console(highlight=False).print(
        f"Migrated '{args.domain}' to the Rasa 3 format in '{relative(out)}'; "
        f"the original is kept as '{relative(backup)}'."
    )
    return 0


def register(commands: Any) -> None:
    data = commands.add_parser("data", help=help_of("data"))
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    check = sub.add_parser("validate", help="check the domain, data and stories for mistakes")
    check.add_argument("--project", default=".", help="project folder (default: here)")
    check.add_argument("-d", "--domain", default=None, help="domain file or folder")
    check.add_argument("-c", "--config", default=None, help="config file")
    check.add_argument("--data", nargs="+", default=None, help="training data files or folders")
    check.add_argument(
        "--max-history",
        type=int,
        default=None,
        help="turns compared when looking for story conflicts",
    )
    check.add_argument("--fail-on-warnings", action="store_true", help="exit 1 on warnings too")
    check.set_defaults(handler=validate)

    split = sub.add_parser("split", help="split NLU data into training and test sets")
    split_sub = split.add_subparsers(dest="split_what", metavar="WHAT")
    split_nlu_parser = split_sub.add_parser("nlu", help="stratified split of NLU examples")
    split_nlu_parser.add_argument(
        "-u", "--nlu", nargs="+", default=["data"], help="NLU files or folders"
    )
    split_nlu_parser.add_argument("--training-fraction", type=float, default=0.8)
    split_nlu_parser.add_argument("--random-seed", type=int, default=42)
    split_nlu_parser.add_argument("-f", "--format", choices=("yaml", "json"), default="yaml")
    split_nlu_parser.add_argument("--out", default="train_test_split")
    split_nlu_parser.set_defaults(handler=split_nlu)

    convert = sub.add_parser(
        "convert",
        help="convert NLU data to Rasa's YAML or JSON (from either, or LUIS, Wit.ai, Dialogflow)",
    )
    convert_sub = convert.add_subparsers(dest="convert_what", metavar="WHAT")
    convert_nlu_parser = convert_sub.add_parser("nlu", help="convert NLU data")
    convert_nlu_parser.add_argument("-f", "--format", choices=("yaml", "json"), required=True)
    convert_nlu_parser.add_argument("--data", required=True, help="file or folder to convert")
    convert_nlu_parser.add_argument("--out", required=True, help="output file or folder")
    convert_nlu_parser.add_argument(
        "--language", default="en", help="the language of a Dialogflow export to read (en)"
    )
    convert_nlu_parser.set_defaults(handler=convert_nlu)

    move = sub.add_parser("migrate", help="convert a Rasa 2.x domain to the 3.x format")
    move.add_argument("-d", "--domain", default="domain.yml", help="domain file or folder")
    move.add_argument("--out", default=None, help="where to write the migrated domain")
    move.set_defaults(handler=migrate)

    for group in (split, convert, data):
        group.set_defaults(handler=shows_help(group))

"""`parlez`: the entry point; parses arguments and prints errors as one readable block."""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from parlez import __version__
from parlez.cli.commands import COMMANDS
from parlez.exceptions import ParlezError

#: Exit codes: 0 all good, 1 problems found in the project, 2 the command was used wrongly.
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose mistakes say what was probably meant."""

    def error(self, message: str) -> Any:  # argparse's own signature: it never returns
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        if unknown is not None:
            known = sorted(set(_long_options(self)))
            for given in unknown.group(1).split():
                close = difflib.get_close_matches(given.split("=")[0], known, n=1)
                if given.startswith("-") and close:
                    message += f" (did you mean {close[0]}?)"
                    break
        invalid = re.match(r"argument [A-Z_]+: invalid choice: '([^']*)'", message)
        if invalid is not None:
            choices = next(
                (list(a.choices) for a in self._actions if isinstance(a.choices, dict)), []
            )
            close = difflib.get_close_matches(invalid.group(1), choices, n=1)
            if close:
                message = f"unknown command '{invalid.group(1)}': did you mean '{close[0]}'?"
        super().error(message)


def _long_options(parser: argparse.ArgumentParser) -> list[str]:
    """Every `--option` of the parser and of the commands under it."""
    found = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):
                found += _long_options(command)
    return found


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: every command's arguments when `argv` is None; else only
    those of the command it names (the others are listed by name and help, their modules
    not imported)."""
    parser = Parser(prog="parlez", description="Build, check and run Rasa-compatible assistants.")
    parser.add_argument("--version", action="version", version=f"parlez {__version__}")
    _log_flags(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None if argv is None else next((a for a in argv if a in COMMANDS), None)
    for name, (module, help_text) in COMMANDS.items():
        if argv is None or name == chosen:
            importlib.import_module(module).register(commands)
        else:
            commands.add_parser(name, help=help_text)
    _every_command_takes_log_flags(parser)
    return parser


def _log_flags(parser: argparse.ArgumentParser, top: bool) -> None:
    """-v, -vv, --quiet and --debug, as Rasa takes them before or after the command (a
    command's own flag keeps the value given before it when it is not given again)."""
    taken = parser._option_string_actions
    unset = {} if top else {"default": argparse.SUPPRESS}
    group = parser.add_argument_group("logs")
    if "-v" not in taken:
        group.add_argument(
            "-v",
            "--verbose",
            action="count",
            **({"default": 0} if top else unset),
            help="more logs: -v information, -vv debug",
        )
    if "--quiet" not in taken:
        group.add_argument(
            "--quiet",
            action="store_true",
            **({"default": False} if top else unset),
            help="errors only",
        )
    if "--debug" not in taken:
        group.add_argument(
            "--debug",
            action="store_true",
            **({"default": False} if top else unset),
            help="debug logs, and an error's traceback",
        )


def _every_command_takes_log_flags(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):
                _log_flags(command, top=False)
                _every_command_takes_log_flags(command)


def log_level(args: argparse.Namespace) -> int:
    """The level the flags ask for: --debug or -vv debug, -v information, --quiet errors."""
    if args.debug or args.verbose >= 2:
        return logging.DEBUG
    if args.verbose == 1:
        return logging.INFO
    return logging.ERROR if args.quiet else logging.WARNING


def use_project_packages(project: Path) -> None:
    """The project's own packages (`actions`, custom channels and components) are imported
    from its folder, as Rasa does, before any installed package of the same name: a
    project's `actions` is never another project's that happens to be on the path."""
    folder = str(project.resolve())
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(given)
    args = parser.parse_args(given)
    logging.basicConfig(level=log_level(args), format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    use_project_packages(Path(getattr(args, "project", None) or "."))
    err = Console(stderr=True, highlight=False)
    try:
        code: int = args.handler(args)
        return code
    except ParlezError as error:
        if args.debug:
            raise
        err.print(f"[bold red]{error.render()}[/]", markup=True, soft_wrap=True)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

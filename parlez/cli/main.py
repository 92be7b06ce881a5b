"""`parlez`: the entry point; parses arguments and prints errors as one readable block."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rich.console import Console

from parlez import __version__
from parlez.cli import console, data, init, interactive, kb, run, shell, test, train
from parlez.exceptions import ParlezError

#: Exit codes: 0 all good, 1 problems found in the project, 2 the command was used wrongly.
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parlez", description="Build, check and run Rasa-compatible assistants."
    )
    parser.add_argument("--version", action="version", version=f"parlez {__version__}")
    _log_flags(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    init.register(commands)
    data.register(commands)
    train.register(commands)
    test.register(commands)
    shell.register(commands)
    interactive.register(commands)
    run.register(commands)
    kb.register(commands)
    console.register(commands)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=log_level(args), format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
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

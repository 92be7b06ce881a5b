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
    parser.add_argument("--debug", action="store_true", help="show debug logs and tracebacks")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
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

"""`parlez shell nlu`: type messages, see how the NLU model parses them (Rasa's JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from parlez.cli.usage import shows_help
from parlez.exceptions import relative
from parlez.model import require_model
from parlez.training import load_nlu


def run_nlu(args: argparse.Namespace) -> int:
    console = Console(highlight=False, stderr=True)
    archive = require_model(Path(args.model))
    pipeline = load_nlu(archive)
    interactive = sys.stdin.isatty()
    if interactive:
        console.print(f"Loaded '{relative(archive)}'. Type a message (Ctrl-D to quit).")
    while True:
        if interactive:
            console.print("[bold]Next message:[/]", end=" ")
        line = sys.stdin.readline()
        if not line:
            return 0
        text = line.rstrip("\n")
        if text.strip() == "/stop":
            return 0
        print(
            json.dumps(pipeline.parse(text), indent=2 if interactive else None, ensure_ascii=False),
            flush=True,
        )


def register(commands: Any) -> None:
    shell = commands.add_parser("shell", help="talk to a trained model")
    sub = shell.add_subparsers(dest="shell_what", metavar="WHAT")
    nlu = sub.add_parser("nlu", help="see how messages are parsed")
    nlu.add_argument("-m", "--model", default="models", help="model archive or folder of archives")
    nlu.set_defaults(handler=run_nlu)

    shell.set_defaults(handler=shows_help(shell))

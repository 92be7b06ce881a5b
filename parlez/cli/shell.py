"""`parlez shell`: talk to the assistant in the terminal; `parlez shell nlu`: see parses."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from parlez.cli.commands import help_of
from parlez.cli.lines import LineReader
from parlez.endpoints import Endpoints
from parlez.exceptions import relative
from parlez.model import require_model

# The agent and the NLU load torch: imported by the commands that talk, not by --help.


def run_nlu(args: argparse.Namespace) -> int:
    from parlez.training import load_nlu

    console = Console(highlight=False, stderr=True)
    archive = require_model(Path(args.model))
    pipeline = load_nlu(archive)
    lines = LineReader()
    interactive = lines.interactive
    if interactive:
        console.print(f"Loaded '{relative(archive)}'. Type a message (Ctrl-D to quit).")
    while True:
        line = lines.read_sync("Next message: ")
        if line is None:
            return 0
        text = line
        if text.strip() == "/stop":
            return 0
        print(
            json.dumps(pipeline.parse(text), indent=2 if interactive else None, ensure_ascii=False),
            flush=True,
        )


def show_bot_message(console: Console, message: dict[str, Any]) -> list[dict[str, Any]]:
    """Print one bot message; its buttons become numbered choices."""
    # What the bot says is text, never rich markup: "[Anna](name)" must print as written.
    if message.get("text"):
        console.print(f"[cyan]{escape(str(message['text']))}[/]", markup=True)
    if message.get("image"):
        console.print(f"[dim]Image: {escape(str(message['image']))}[/]")
    if message.get("attachment"):
        console.print(f"[dim]Attachment: {escape(str(message['attachment']))}[/]")
    if message.get("custom"):
        console.print(f"[dim]{escape(json.dumps(message['custom'], ensure_ascii=False))}[/]")
    buttons = list(message.get("buttons") or message.get("quick_replies") or [])
    for number, button in enumerate(buttons, start=1):
        title, payload = escape(str(button.get("title"))), escape(str(button.get("payload")))
        console.print(f"  {number}: {title} [dim]({payload})[/]")
    return buttons


def run_shell(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    from parlez.agent import Agent

    archive = require_model(Path(args.model))
    endpoints = Endpoints.load(args.endpoints)
    agent = Agent.load(archive, endpoints, actions_module=args.actions)
    sender = args.conversation_id or uuid.uuid4().hex
    lines = LineReader()
    if lines.interactive:
        console.print(f"Loaded '{relative(archive)}'. Type a message; /stop or Ctrl-D to quit.")

    async def talk() -> int:
        buttons: list[dict[str, Any]] = []
        while True:
            line = await lines.read("Your input -> ")
            if line is None:
                return 0
            text = line.strip()
            if text == "/stop":
                return 0
            if text.isdigit() and 1 <= int(text) <= len(buttons):
                text = str(buttons[int(text) - 1].get("payload") or text)
            buttons = []
            for message in await agent.handle_text(text, sender):
                buttons = show_bot_message(console, message) or buttons

    return asyncio.run(talk())


def register(commands: Any) -> None:
    shell = commands.add_parser("shell", help=help_of("shell"))
    sub = shell.add_subparsers(dest="shell_what", metavar="WHAT")
    nlu = sub.add_parser("nlu", help="see how messages are parsed")
    nlu.add_argument("-m", "--model", default="models", help="model archive or folder of archives")
    nlu.set_defaults(handler=run_nlu)

    add_conversation_arguments(shell)
    shell.set_defaults(handler=run_shell)


def add_conversation_arguments(parser: Any) -> None:
    """The options of the commands that talk to a trained assistant in the terminal."""
    parser.add_argument(
        "-m", "--model", default="models", help="model archive or folder of archives"
    )
    parser.add_argument("--endpoints", default="endpoints.yml", help="endpoints file")
    parser.add_argument(
        "--actions", default=None, help="package of custom actions to run in-process"
    )
    parser.add_argument("--conversation-id", default=None, help="continue this conversation")

"""`parlez visualize`: the stories drawn as one graph, in a page of its own (Rasa's
`rasa visualize`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from parlez.cli.commands import help_of
from parlez.exceptions import relative
from parlez.project import Project


def run(args: argparse.Namespace) -> int:
    from parlez.training_data.visualization import html_page, story_graph

    console = Console(highlight=False)
    project = Project(args.project, data=args.stories)
    nlu = Project(args.project, data=args.nlu).training_data if args.nlu else None
    graph = story_graph(project.stories, max_history=args.max_history, nlu=nlu)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html_page(graph, title=f"Stories of {project.root.resolve().name}"), "utf-8")
    console.print(
        f"The stories' graph ({len(graph.labels) - 2} turns, {len(graph.edges)} edges) is in "
        f"'{relative(out)}': open it in a browser.",
        soft_wrap=True,
    )
    return 0


def _turn_count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("the max history is 0 or more")
    return number


def register(commands: Any) -> None:
    parser = commands.add_parser("visualize", help=help_of("visualize"))
    parser.add_argument("--project", default=".", help="project folder (default: here)")
    parser.add_argument(
        "-s", "--stories", nargs="+", default=None, help="story files or folders (default: data/)"
    )
    parser.add_argument(
        "-u",
        "--nlu",
        nargs="+",
        default=None,
        help="NLU data: show each intent as its first example message instead of its name",
    )
    parser.add_argument(
        "--max-history",
        type=_turn_count,
        default=2,
        help="turns before a turn that tell it apart: turns with the same ones are one node",
    )
    parser.add_argument("--out", default="graph.html", help="the page to write")
    # Rasa's flags that the graph does not need, accepted so Rasa's commands run unchanged
    parser.add_argument("-d", "--domain", default=None, help="domain (not needed; Rasa's flag)")
    parser.add_argument("-c", "--config", default=None, help="config (not needed; Rasa's flag)")
    parser.set_defaults(handler=run)

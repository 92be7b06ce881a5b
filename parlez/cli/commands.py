"""The commands `parlez` has, in the order `parlez --help` lists them: the module that
builds each one's arguments, and what it is for.

Only the module of the command given is imported: `parlez --help` answers without loading
torch, scikit-learn or the console's database.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("parlez.cli.init", "create a new assistant project from the template"),
    "data": ("parlez.cli.data", "check and transform training data"),
    "train": ("parlez.cli.train", "train models"),
    "test": ("parlez.cli.test", "evaluate models"),
    "shell": ("parlez.cli.shell", "talk to the assistant in the terminal"),
    "interactive": (
        "parlez.cli.interactive",
        "talk to the assistant, correct it, and save the conversation as training data",
    ),
    "visualize": ("parlez.cli.visualize", "draw the stories as a graph in a web page"),
    "run": ("parlez.cli.run", "serve the assistant over HTTP (Rasa's API and channels)"),
    "kb": ("parlez.cli.kb", "search, import and export the knowledge base"),
    "console": ("parlez.cli.console", "accounts and reports of the console at /console/"),
}


def help_of(command: str) -> str:
    return COMMANDS[command][1]

"""Every `parlez` command the documentation shows is one parlez takes: its command,
subcommand and flags, as written in the shell and console examples of docs/.

A flag renamed or removed, or a subcommand mistyped in a page, fails here rather than in a
reader's terminal. (The examples that run offline in seconds are run too, below.)"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from parlez.cli.main import build_parser
from tests.conftest import REPO

FENCE = re.compile(r"^```(sh|console|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documented_commands() -> list[tuple[str, str]]:
    """(page:line, the command) for each `parlez ...` in a shell or console example."""
    found = []
    for page in sorted((REPO / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for block in FENCE.finditer(text):
            kind, body = block.group(1), block.group(2)
            first_line = text[: block.start()].count("\n") + 2
            # a line continued with a backslash is one command, at its first line
            for offset, line in enumerate(body.replace("\\\n", " \n").splitlines()):
                if kind == "console":
                    if not line.startswith("$ "):
                        continue  # what the command printed
                    line = line[2:]
                for part in re.split(r"&&|;|\||>", line):  # and no redirection
                    if not part.strip().startswith("parlez "):
                        continue
                    words = shlex.split(part, comments=True)
                    if words[0] == "parlez":
                        where = f"{page.relative_to(REPO)}:{first_line + offset}"
                        found.append((where, shlex.join(words[1:])))
    return found


COMMANDS = documented_commands()


def test_the_pages_show_commands() -> None:
    assert len(COMMANDS) > 30


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_a_documented_command_is_one_parlez_takes(where: str, command: str) -> None:
    argv = shlex.split(command)
    try:
        build_parser(argv).parse_args(argv)
    except SystemExit as refused:
        if refused.code == 0:  # --version, --help
            return
        pytest.fail(f"{where}: `parlez {command}` is refused (exit {refused.code})")


def test_the_first_commands_of_the_cli_page_run_as_written(tmp_path: Path) -> None:
    """docs/cli.md's `parlez init my-assistant`, then the next step it prints."""

    def parlez(*args: str, cwd: Path) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "parlez", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    said = parlez("init", "my-assistant", cwd=tmp_path)
    page = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for line in said.splitlines():
        assert line in page, f"docs/cli.md does not show what init prints: {line}"
    assert "The project is valid" in parlez("data", "validate", cwd=tmp_path / "my-assistant")

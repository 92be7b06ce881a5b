"""Every `parlez` command the documentation shows is one parlez takes: its command,
subcommand and flags, as written in the shell and console examples of docs/.

A flag renamed or removed, or a subcommand mistyped in a page, fails here rather than in a
reader's terminal. The examples that run offline in seconds are run too, as written; the
others say why not."""

from __future__ import annotations

import os
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


MARKED = re.compile(
    r"^<!-- example: (?P<mark>[^\n]*?) -->\n```(?P<kind>sh|console|bash)\n(?P<body>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def examples() -> list[tuple[str, str, str, str]]:
    """(page:line, mark, kind, body) of every shell and console example of docs/."""
    found = []
    for page in sorted((REPO / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for block in MARKED.finditer(text):
            line = text[: block.start()].count("\n") + 2
            where = f"{page.relative_to(REPO)}:{line}"
            found.append((where, block["mark"], block["kind"], block["body"]))
    return found


EXAMPLES = examples()
RUN = [example for example in EXAMPLES if example[1].startswith("runs")]


def test_every_shell_example_is_run_or_says_why_not() -> None:
    """A new example is run here unless its page says why it cannot be (a server, minutes
    of training, a question at the terminal): `<!-- example: runs -->` or
    `<!-- example: not run: why -->` on the line above its fence."""
    fences = sum(
        len(FENCE.findall(page.read_text(encoding="utf-8")))
        for page in (REPO / "docs").rglob("*.md")
    )
    assert len(EXAMPLES) == fences, "an example of docs/ has no <!-- example: ... --> mark"
    for where, mark, _, _ in EXAMPLES:
        assert mark == "runs" or mark.startswith(("runs after: ", "not run: ")), where
    assert len(RUN) >= 4


def script_of(kind: str, body: str) -> tuple[str, list[str]]:
    """The commands of an example, and the lines it shows them printing."""
    if kind != "console":
        return body, []
    commands = [line[2:] for line in body.splitlines() if line.startswith("$ ")]
    shown = [line for line in body.splitlines() if line and not line.startswith("$ ")]
    return "\n".join(commands), shown


@pytest.mark.parametrize(("where", "mark", "kind", "body"), RUN, ids=[e[0] for e in RUN])
def test_an_offline_example_runs_as_written(
    where: str, mark: str, kind: str, body: str, tmp_path: Path
) -> None:
    """In a new folder, or in a new `parlez init` project where the example does not make
    its own; `parlez` and `python` are this installation's."""
    script, shown = script_of(kind, body)
    env = {
        # a reader's shell, not this test run's: no PARLEZ_* another test left behind
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEZ_")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
    }
    folder = tmp_path
    if "parlez init" not in script:
        subprocess.run(["parlez", "init", "project"], cwd=tmp_path, env=env, check=True)
        folder = tmp_path / "project"
    if mark.startswith("runs after: "):
        script = f"{mark.removeprefix('runs after: ')}\n{script}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"{where}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    for line in shown:
        assert line in done.stdout, (
            f"{where}: the page shows {line!r}, parlez printed:\n{done.stdout}"
        )

"""Every code parlez reports is explained in docs/errors.md: a user who meets one can look
it up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parlez.cli.main import main
from parlez.diagnostics import warn
from parlez.exceptions import Location
from tests.conftest import REPO, write

CODE = re.compile(r"\bP\d{3}\b")
#: a row of the table: its codes, one ("P116"), two ("P114 / P115") or a range ("P201-P205")
ROW = re.compile(r"^\| (P\d{3})(?:(?: / |-)(P\d{3}))? \|", re.MULTILINE)


def documented() -> set[str]:
    found: set[str] = set()
    for first, last in ROW.findall((REPO / "docs" / "errors.md").read_text()):
        end = last or first
        found.update(f"P{n:03d}" for n in range(int(first[1:]), int(end[1:]) + 1))
    return found


def test_every_code_in_the_source_is_in_the_errors_page() -> None:
    used = {
        code
        for folder in ("parlez", "actions", "connectors")
        for path in (REPO / folder).rglob("*.py")
        for code in CODE.findall(path.read_text(encoding="utf-8"))
    }
    assert len(used) > 100
    assert sorted(used - documented()) == []


def test_an_error_a_finding_and_a_logged_warning_are_written_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """One format for every problem: `level code where: what`, then the hint."""
    write(tmp_path / "domain.yml", "version: '3.1'\nintents:\n\t- greet\n")
    assert main(["data", "validate", "--project", str(tmp_path)]) == 1
    stopped = main(["train", "--project", str(tmp_path), "--skip-validation"])
    printed = capsys.readouterr()
    assert stopped == 1
    line = re.compile(r"^error P101 \S*domain\.yml:3:1: a tab character", re.MULTILINE)
    assert line.search(printed.out) and line.search(printed.err)
    assert "\n  hint: YAML indents with spaces only" in printed.err
    warn("P184", "a parameter of the wrong kind", Location("config.yml", 4, 5), "a number")
    assert "warning P184 config.yml:4:5: a parameter of the wrong kind\n  hint: a number" in (
        caplog.text
    )

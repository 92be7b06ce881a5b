"""Every code parlez reports is explained in docs/errors.md: a user who meets one can look
it up."""

from __future__ import annotations

import re

from tests.conftest import REPO

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

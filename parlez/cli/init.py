"""`parlez init [path]`: a new project from the customer-service assistant template."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from rich.console import Console

import parlez
from parlez.cli.commands import help_of
from parlez.exceptions import ProjectError, relative

TEMPLATE_ITEMS = (
    "domain.yml",
    "config.yml",
    "credentials.yml",
    "endpoints.yml",
    "business.yml",
    "data",
    "actions",
    "connectors",
    "tests/test_stories.yml",
)


def template_dir() -> Path:
    """The template shipped in the wheel, or the repository root in a source checkout."""
    package = Path(parlez.__file__).parent
    packaged = package / "template"
    if (packaged / "domain.yml").is_file():
        return packaged
    source = package.parent
    if (source / "domain.yml").is_file() and (source / "data").is_dir():
        return source
    raise ProjectError(
        "the assistant template is missing from this installation", hint="reinstall parlez"
    )


def create_project(target: Path, force: bool = False) -> list[Path]:
    """Copy the template into `target`; refuses a non-empty folder unless `force`."""
    if target.exists() and any(target.iterdir()) and not force:
        raise ProjectError(
            f"the folder '{relative(target)}' is not empty",
            hint="choose an empty or new folder, or pass --force to write into it",
        )
    source = template_dir()
    written: list[Path] = []
    for item in TEMPLATE_ITEMS:
        src, dst = source / item, target / item
        if src.is_dir():
            shutil.copytree(
                src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        written.append(dst)
    (target / "models").mkdir(parents=True, exist_ok=True)
    return written


def run(args: argparse.Namespace) -> int:
    target = Path(args.path)
    written = create_project(target, force=args.force)
    console = Console(highlight=False)
    console.print(f"Created a new assistant in '{relative(target)}' ({len(written)} items).")
    console.print(f"Next: cd {relative(target)} && parlez data validate")
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("init", help=help_of("init"))
    parser.add_argument(
        "path", nargs="?", default=".", help="folder for the project (default: here)"
    )
    parser.add_argument(
        "--force", action="store_true", help="write into a folder that is not empty"
    )
    parser.set_defaults(handler=run)

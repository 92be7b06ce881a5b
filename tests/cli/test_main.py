from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from parlez import __version__
from parlez.cli.main import build_parser, log_level, main
from parlez.cli.run import configure_logs
from tests.conftest import write


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"parlez {__version__}"


def test_an_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["dance"])
    assert caught.value.code == 2


def test_a_broken_file_prints_one_block_without_a_traceback(tmp_path: Path) -> None:
    write(tmp_path / "domain.yml", "intents:\n\t- greet\n")
    result = subprocess.run(
        [sys.executable, "-m", "parlez", "data", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "error P101 domain.yml:2:1: a tab character is used for indentation" in result.stdout
    assert "hint: YAML indents with spaces only" in result.stdout


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    write(tmp_path / "domain.yml", "version: '3.1'\n")
    write(tmp_path / "data" / "nlu.yml", "nlu:\n- intent: greet\n  examples: |\n    - [hi(x)\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "parlez",
            "--debug",
            "data",
            "convert",
            "nlu",
            "-f",
            "json",
            "--data",
            "data",
            "--out",
            "out",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "EntityAnnotationError" in result.stderr


def test_debug_logs_never_show_the_urls_that_carry_platform_tokens() -> None:
    """Telegram wants its bot token in the URL's path and Messenger its page token in the
    query: the HTTP clients that log each URL stay at warnings, even with --debug."""
    names = ["", "sanic.access", "sanic.root", "sanic.server", "engineio", "socketio"]
    clients = ["httpx", "httpcore", "twilio.http_client"]
    before = {name: logging.getLogger(name).level for name in names + clients}
    try:
        configure_logs(argparse.Namespace(debug=True, log_format="text", log_file=None))
        assert logging.getLogger().level == logging.DEBUG
        for client in clients:
            assert logging.getLogger(client).getEffectiveLevel() == logging.WARNING
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)


def test_the_api_token_and_jwt_secret_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container gives its secrets in the environment: `parlez run` takes them from
    PARLEZ_AUTH_TOKEN and PARLEZ_JWT_SECRET, and a flag still wins."""
    monkeypatch.setenv("PARLEZ_AUTH_TOKEN", "from-env")
    monkeypatch.setenv("PARLEZ_JWT_SECRET", "jwt-from-env")
    args = build_parser().parse_args(["run"])
    assert (args.auth_token, args.jwt_secret) == ("from-env", "jwt-from-env")
    args = build_parser().parse_args(["run", "--auth-token", "flag"])
    assert args.auth_token == "flag"
    monkeypatch.delenv("PARLEZ_AUTH_TOKEN")
    assert build_parser().parse_args(["run"]).auth_token is None


def test_the_package_carries_its_licence_and_its_types() -> None:
    """pyproject.toml declares Apache-2.0: its text is in the repository (hatchling puts
    LICENSE in the wheel), and py.typed tells type checkers parlez is typed."""
    root = Path(__file__).resolve().parents[2]
    licence = (root / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert (root / "parlez" / "py.typed").is_file()
    assert (root / "CHANGELOG.md").read_text(encoding="utf-8").startswith("# Changelog")


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["train", "--debug"], logging.DEBUG),
        (["--debug", "train"], logging.DEBUG),
        (["data", "validate", "-vv"], logging.DEBUG),
        (["-v", "data", "validate"], logging.INFO),
        (["kb", "search", "hours", "--quiet"], logging.ERROR),
        (["train", "nlu"], logging.WARNING),
    ],
)
def test_log_flags_are_taken_before_or_after_the_command(argv: list[str], level: int) -> None:
    """As in Rasa: `parlez train --debug` was refused ("unrecognized arguments")."""
    assert log_level(build_parser().parse_args(argv)) == level


def test_trains_options_hold_before_or_after_core() -> None:
    """`parlez train --force core` forced nothing: the subcommand's own defaults replaced
    what was given before it."""
    before = build_parser().parse_args(["train", "--force", "--dry-run", "--out", "m", "core"])
    after = build_parser().parse_args(["train", "core", "--force", "--dry-run", "--out", "m"])
    for args in (before, after):
        assert (args.force, args.dry_run, args.out, args.train_what) == (True, True, "m", "core")
    plain = build_parser().parse_args(["train", "core"])
    assert (plain.force, plain.dry_run, plain.out, plain.project) == (False, False, "models", ".")


def test_help_loads_no_heavy_library_and_each_command_only_its_own() -> None:
    """`parlez --help` and a command's --help answer without torch, scikit-learn or the
    console's database: a newcomer's first command answers at once."""
    probe = (
        "import sys\n"
        "from parlez.cli.main import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('torch', 'sklearn', 'argon2', 'alembic') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    for argv in (
        ["--help"],
        ["train", "--help"],
        ["test", "--help"],
        ["shell", "--help"],
        ["interactive", "--help"],
        ["console", "--help"],
        ["run", "--help"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True
        )
        assert "HEAVY []" in done.stdout, (argv, done.stdout[-300:])


def test_every_command_is_listed_with_the_help_its_module_gives() -> None:
    full = build_parser()
    light = build_parser(["--help"])
    for parser in (full, light):
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        assert list(commands.choices) == [
            "init",
            "data",
            "train",
            "test",
            "shell",
            "interactive",
            "visualize",
            "run",
            "kb",
            "console",
        ]
    shown = {a.dest: a.help for a in commands._choices_actions}
    full_commands = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert shown == {a.dest: a.help for a in full_commands._choices_actions}


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["trian"], "unknown command 'trian': did you mean 'train'?"),
        (["data", "valdate"], "unknown command 'valdate': did you mean 'validate'?"),
        (["train", "--forse"], "--forse (did you mean --force?)"),
        (["run", "--enable-apii"], "--enable-apii (did you mean --enable-api?)"),
    ],
)
def test_a_mistyped_command_or_flag_says_what_was_meant(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert said in capsys.readouterr().err

"""`parlez train`, `parlez test core` and `parlez shell` on a small real project."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from parlez.cli.interactive import Interactive
from parlez.cli.lines import LineReader
from parlez.cli.main import main
from parlez.cli.shell import show_bot_message
from parlez.model import latest_model, opened, read_metadata
from tests.conftest import nlu_file, write

CONFIG = """
assistant_id: cafe
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: LogisticRegressionClassifier
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
"""
DOMAIN = """
version: "3.1"
intents: [greet, ask_menu, bye]
responses:
  utter_greet:
    - text: "Welcome to the cafe!"
      buttons:
        - title: "See the menu"
          payload: "/ask_menu"
  utter_menu: [{text: "Coffee, tea and cake."}]
  utter_bye: [{text: "See you!"}]
"""
NLU = nlu_file("""
- intent: greet
  examples: |
    - hi
    - hello
    - good morning
- intent: ask_menu
  examples: |
    - what do you have
    - show me the menu
    - what can I order
- intent: bye
  examples: |
    - bye
    - see you later
    - goodbye
""")
RULES = """
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: menu
  steps:
  - intent: ask_menu
  - action: utter_menu
- rule: bye
  steps:
  - intent: bye
  - action: utter_bye
"""
PASSING = """
version: "3.1"
stories:
- story: greet and read the menu
  steps:
  - user: |
      hello
    intent: greet
  - action: utter_greet
  - user: |
      show me the menu
    intent: ask_menu
  - action: utter_menu
"""
FAILING = (
    PASSING
    + """
- story: a wrong expectation
  steps:
  - intent: bye
  - action: utter_menu
"""
)


@pytest.fixture
def cafe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / "domain.yml", DOMAIN)
    write(tmp_path / "config.yml", CONFIG)
    write(tmp_path / "data" / "nlu.yml", NLU)
    write(tmp_path / "data" / "rules.yml", RULES)
    write(tmp_path / "tests" / "test_stories.yml", PASSING)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_train_writes_one_archive_with_both_parts_and_reuses_them(
    cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--fixed-model-name", "first"]) == 0
    archive = latest_model(cafe / "models")
    assert archive is not None
    with opened(archive) as folder:
        assert set(read_metadata(folder).fingerprints) == {"nlu", "core"}
        assert (folder / "core" / "policies.json").is_file()
        assert (folder / "core" / "domain.json").is_file()
    capsys.readouterr()
    assert main(["train", "--fixed-model-name", "second"]) == 0
    out = capsys.readouterr().out
    assert "NLU pipeline are unchanged" in out and "dialogue policies are unchanged" in out
    write(cafe / "data" / "rules.yml", RULES.replace("utter_bye", "utter_greet", 1))
    assert main(["train", "--fixed-model-name", "third"]) == 0
    out = capsys.readouterr().out
    assert "NLU pipeline are unchanged" in out and "Trained the dialogue policies" in out


def test_a_dry_run_says_what_would_be_trained_and_trains_nothing(
    cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rasa's `train --dry-run`: exit 1 when a part would be trained, 0 when both would be
    reused, 8 when forced; no archive is written."""
    assert main(["train", "--dry-run"]) == 1  # no model yet
    assert not (cafe / "models").exists()
    assert main(["train"]) == 0
    capsys.readouterr()
    assert main(["train", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "NLU pipeline is up to date" in out and "dialogue policies is up to date" in out
    write(cafe / "data" / "rules.yml", RULES.replace("utter_bye", "utter_greet", 1))
    assert main(["train", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "NLU pipeline is up to date" in out and "dialogue policies would be trained" in out
    assert main(["train", "--dry-run", "--force"]) == 8
    assert len(list((cafe / "models").glob("*.tar.gz"))) == 1


def test_the_data_is_checked_before_training_as_rasa_does(
    cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error of `parlez data validate` stops `parlez train` before anything is trained; a
    warning is printed and stops it only with --fail-on-validation-warnings;
    --skip-validation trains without the check."""
    write(cafe / "data" / "rules.yml", RULES.replace("action: utter_bye", "action: utter_farewell"))
    assert main(["train"]) == 1
    out = capsys.readouterr().out
    assert "utter_farewell" in out and "Nothing was trained" in out
    assert not (cafe / "models").exists()
    write(cafe / "data" / "rules.yml", RULES)
    write(
        cafe / "domain.yml",
        DOMAIN.replace(
            "intents: [greet, ask_menu, bye]", "intents: [greet, ask_menu, bye, thanks]"
        ),
    )
    assert main(["train", "--fail-on-validation-warnings"]) == 1
    assert "warning P206" in capsys.readouterr().out
    assert main(["train", "--fail-on-validation-warnings", "--skip-validation"]) == 0
    assert "P206" not in capsys.readouterr().out
    assert main(["train", "--force"]) == 0
    assert "warning P206" in capsys.readouterr().out


def test_finetuning_is_refused_with_what_to_do_instead(
    cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--finetune"]) == 1
    err = capsys.readouterr().err
    assert "P172" in err and "does not fine-tune" in err
    with pytest.raises(SystemExit) as refused:
        main(["train", "--augmentation", "-3"])
    assert refused.value.code == 2 and "0 or more" in capsys.readouterr().err


def test_test_core_writes_rasa_s_story_reports(cafe: Path) -> None:
    assert main(["train"]) == 0
    assert main(["test", "core", "--fail-on-prediction-errors"]) == 0
    results = cafe / "results"
    assert sorted(p.name for p in results.iterdir()) == [
        "failed_test_stories.yml",
        "story_confusion_matrix.png",
        "story_report.json",
    ]
    report = json.loads((results / "story_report.json").read_text())
    assert report["conversation_accuracy"]["correct"] == 1
    assert report["utter_menu"]["f1-score"] == 1.0
    # --no-plot: the same reports, without the images
    assert main(["test", "core", "--no-plot", "--out", "plain"]) == 0
    assert not list((cafe / "plain").glob("*.png"))


def test_a_failing_story_is_written_with_what_was_predicted(cafe: Path) -> None:
    write(cafe / "tests" / "test_stories.yml", FAILING)
    assert main(["train"]) == 0
    assert main(["test", "core"]) == 0
    assert main(["test", "core", "--fail-on-prediction-errors"]) == 1
    failed = (cafe / "results" / "failed_test_stories.yml").read_text()
    assert "a wrong expectation" in failed
    assert "- action: utter_menu  # predicted: utter_bye" in failed
    assert "greet and read the menu" not in failed


def test_shell_talks_and_numbers_the_buttons(cafe: Path) -> None:
    assert main(["train"]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "parlez", "shell"],
        input="hello\n1\nbye\n",
        capture_output=True,
        text=True,
        cwd=cafe,
        check=True,
    )
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines == [
        "Welcome to the cafe!",
        "1: See the menu (/ask_menu)",
        "Coffee, tea and cake.",
        "See you!",
    ]


OWN_ACTION = """
from rasa_sdk import Action


class ActionCafeGoodbye(Action):
    def name(self) -> str:
        return "action_cafe_goodbye"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="Bye from the cafe's own action!")
        return []
"""


def test_the_projects_own_actions_package_is_the_one_run(cafe: Path) -> None:
    """`parlez shell` (the installed command, whose path does not start with the project
    folder) runs the project's `actions`, never another `actions` package on the path (this
    repository's assistant, when parlez is installed from it in editable mode)."""
    write(cafe / "actions" / "__init__.py", "")
    write(cafe / "actions" / "cafe.py", OWN_ACTION)
    write(cafe / "domain.yml", DOMAIN + "actions: [action_cafe_goodbye]\n")
    write(
        cafe / "data" / "rules.yml",
        RULES.replace("action: utter_bye", "action: action_cafe_goodbye"),
    )
    write(cafe / "endpoints.yml", "action_endpoint:\n  actions_module: actions\n")
    assert main(["train"]) == 0
    command = Path(sys.executable).with_name("parlez")
    result = subprocess.run(
        [str(command), "shell"],
        input="bye\n",
        capture_output=True,
        text=True,
        cwd=cafe,
        check=True,
    )
    assert "Bye from the cafe's own action!" in result.stdout, result.stdout + result.stderr


def test_the_shell_in_a_terminal_edits_lines_and_recalls_them(cafe: Path, tmp_path: Path) -> None:
    """In a terminal, the arrow keys move and recall (the up arrow brings back the last
    message instead of printing ^[[A), and the history is kept for the next session."""
    import os
    import pty
    import select
    import time

    assert main(["train"]) == 0
    history = tmp_path / "history"
    controller, terminal = pty.openpty()
    shell = subprocess.Popen(
        [sys.executable, "-m", "parlez", "shell"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cafe,
        env={**os.environ, "PARLEZ_HISTORY": str(history), "TERM": "xterm"},
    )
    os.close(terminal)
    seen = b""

    def wait_for(text: bytes, after: int = 0) -> int:
        """Until `text` is shown after position `after`; where it ends. (A prompt can be
        drawn twice, when the terminal answers prompt_toolkit's cursor question: counting
        prompts would send keys before the next prompt reads them.)"""
        nonlocal seen
        deadline = time.monotonic() + 180
        while text not in seen[after:]:
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                try:
                    seen += os.read(controller, 4096)
                except OSError:  # the shell ended
                    break
        return seen.index(text, after) + len(text) if text in seen[after:] else len(seen)

    try:
        wait_for(b"Your input ->")
        os.write(controller, b"show me the menu\r")
        answered = wait_for(b"Coffee, tea and cake.")
        wait_for(b"Your input ->", answered)
        os.write(controller, b"\x1b[A\r")  # the up arrow, then Enter: the same message again
        answered = wait_for(b"Coffee, tea and cake.", answered)
        wait_for(b"Your input ->", answered)
        os.write(controller, b"/stop\r")
        assert shell.wait(60) == 0
    finally:
        if shell.poll() is None:
            shell.kill()
        os.close(controller)
    assert b"^[[A" not in seen
    assert "show me the menu" in history.read_text()


def _interactive(project: Path, answers: list[str], out: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "parlez", "interactive", "--out", out],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        cwd=project,
        check=True,
    )
    return result.stdout


def _steps(story: Path) -> list[str]:
    lines = [line.strip() for line in story.read_text().splitlines()]
    return [line for line in lines if line.startswith(("intent:", "- action:"))]


def test_interactive_corrections_become_a_story_and_nlu_examples(cafe: Path) -> None:
    assert main(["train"]) == 0
    answers = [
        "hello",  # the user's message
        "",  # its intent (greet) is right
        "",  # no entities, right
        "",  # utter_greet
        "",  # action_listen
        "what's on the cake list",
        "ask_menu",  # a message the model does not know: its intent given by name
        "",
        "",  # utter_menu, predicted by the rule for the corrected intent
        "",  # action_listen
        "/stop",
    ]
    assert "Coffee, tea and cake." in _interactive(cafe, answers, "data/interactive")
    (story,) = (cafe / "data" / "interactive").glob("stories-*.yml")
    (nlu,) = (cafe / "data" / "interactive").glob("nlu-*.yml")
    assert _steps(story) == [
        "intent: greet",
        "- action: utter_greet",
        "intent: ask_menu",
        "- action: utter_menu",
    ]
    assert "- story: interactive-" in story.read_text()
    examples = nlu.read_text()
    assert "- intent: ask_menu" in examples and "what's on the cake list" in examples
    # The files are training data the next `parlez train` reads.
    assert main(["train"]) == 0


def test_an_interactive_action_correction_is_kept_and_checked_against_the_rules(
    cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train"]) == 0
    answers = ["hello", "", "", "utter_menu", "action_listen", "/stop"]
    assert "Coffee, tea and cake." in _interactive(cafe, answers, "data/interactive")
    (story,) = (cafe / "data" / "interactive").glob("stories-*.yml")
    assert _steps(story) == ["intent: greet", "- action: utter_menu"]
    # The rule 'greet' answers greet with utter_greet: training names the contradiction.
    capsys.readouterr()
    assert main(["train"]) == 1
    assert "P301" in capsys.readouterr().err


def test_undo_takes_back_the_last_message_and_the_bots_answer(cafe: Path) -> None:
    assert main(["train"]) == 0
    answers = [
        "hello",
        "",
        "",
        "utter_menu",  # a wrong answer, taken back below instead of corrected
        "action_listen",
        "/undo",
        "hello",
        "",
        "",
        "",  # utter_greet this time
        "",
        "/stop",
    ]
    shown = _interactive(cafe, answers, "data/interactive")
    assert "Took back your last message" in shown
    (story,) = (cafe / "data" / "interactive").glob("stories-*.yml")
    assert _steps(story) == ["intent: greet", "- action: utter_greet"]
    (nlu,) = (cafe / "data" / "interactive").glob("nlu-*.yml")
    assert nlu.read_text().count("hello") == 1


def test_square_brackets_in_what_is_said_are_printed_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rasa's `[value](entity)` marks and a bot's text with brackets are text in the shell
    and in `parlez interactive`, never rich markup that swallows them."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    show_bot_message(console, {"text": "Hi [Anna](name)!", "buttons": [{"title": "[x]"}]})
    assert "Hi [Anna](name)!" in out.getvalue() and "1: [x]" in out.getvalue()
    asked = io.StringIO()
    session = Interactive.__new__(Interactive)  # only its console and lines are used by `ask`
    session.console = Console(file=asked, force_terminal=False, width=200)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    session.lines = LineReader(interactive=False)
    assert asyncio.run(session.ask("Entities: can I book a [haircut](service)")) == ""
    assert "can I book a [haircut](service)" in asked.getvalue()

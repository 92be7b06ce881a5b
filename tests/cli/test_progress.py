"""`parlez train` piped to a file: each step on a line with its time, and a line at least
every ten seconds while a step runs, so that a log never goes quiet for minutes."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from parlez.cli.progress import HEARTBEAT, ShownProgress, training_progress
from parlez.nlu.progress import report_epoch


def piped() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


def test_each_step_is_a_timestamped_line_and_reuse_is_said() -> None:
    console, out = piped()
    with training_progress(console) as shown:
        shown.tell("nlu", "WhitespaceTokenizer", 1, 2)
        shown.tell("nlu", "DIETClassifier", 2, 2)
        for epoch in range(1, 11):
            report_epoch("DIETClassifier", epoch, 10, {"loss": 1 / epoch})
        shown.tell("nlu", "done")
        shown.tell("core", "reused")
    lines = out.getvalue().splitlines()
    assert all(re.match(r"^\[\d\d:\d\d:\d\d\] ", line) for line in lines)
    assert [line[11:] for line in lines if "epoch" not in line] == [
        "NLU: WhitespaceTokenizer (1/2)",
        "NLU: DIETClassifier (2/2)",
        "NLU: done",
        "dialogue: reused (nothing it learns from changed)",
    ]
    assert sum("DIETClassifier epoch" in line for line in lines) == 10


def test_a_quiet_step_gets_a_still_training_line() -> None:
    console, out = piped()
    shown = ShownProgress(console)
    shown.tell("nlu", "LanguageModelFeaturizer", 6, 11)
    shown.heartbeat()  # just said: nothing more
    assert out.getvalue().count("\n") == 1
    shown.last_line = time.monotonic() - HEARTBEAT - 1
    shown.heartbeat()
    assert "still training NLU: LanguageModelFeaturizer (6/11)" in out.getvalue()
    shown.epoch("LanguageModelFeaturizer", 3, 50)
    shown.last_line = time.monotonic() - HEARTBEAT - 1
    shown.heartbeat()
    assert out.getvalue().rstrip().endswith("epoch 3 of 50")

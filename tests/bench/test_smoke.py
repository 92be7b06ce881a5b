"""The benchmarks still run (tiny data, few epochs). Their figures are measured by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, shared_path
from tests.services import missing


def test_load_benchmark_prints_its_table() -> None:
    shared_path("bench", "nlu", "clinc150")
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "load.py"), "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "clinc150/train.yml" in done.stdout and "15100" in done.stdout


def test_nlu_benchmark_smoke_prints_its_table() -> None:
    shared_path("bench", "nlu", "snips_goo2018")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "nlu.py"),
            "--smoke",
            "--limit",
            "150",
            "--datasets",
            "snips_goo2018",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SMOKE" in done.stdout and "parlez" in done.stdout and "tfidf+logreg" in done.stdout


def test_dialogue_benchmark_smoke_prints_its_table() -> None:
    shared_path("compat", "moodbot")
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "dialogue.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SMOKE" in done.stdout and "moodbot" in done.stdout and "7 / 7" in done.stdout


def test_server_benchmark_smoke_checks_every_event(tmp_path: Path) -> None:
    moodbot = shared_path("compat", "moodbot")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "server.py"),
            "--smoke",
            "--project",
            str(moodbot),
            "--models",
            str(tmp_path / "models"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    row = next(line for line in done.stdout.splitlines() if line.startswith("| sqlite"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "5 x 3" and cells[7:10] == ["0", "0", "0"]  # errors, lost, duplicated


def test_kb_benchmark_smoke_prints_its_table() -> None:
    shared_path("bench", "kb", "stackfaq")
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "kb.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SMOKE" in done.stdout
    assert all(f"| stackfaq | {m}" in done.stdout for m in ("bm25", "dense", "hybrid"))


def test_webchat_benchmark_smoke_prints_its_table(assistant_models: Path) -> None:
    if not Path("/usr/bin/chromium").exists():
        missing("chromium")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "webchat.py"),
            "--smoke",
            "--models",
            str(assistant_models),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "widget.js gzipped (KB)" in done.stdout
    assert "send to reply p50 (ms)" in done.stdout


def test_conversation_benchmark_smoke_prints_its_table(assistant_models: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "conversations.py"),
            "--smoke",
            "--models",
            str(assistant_models),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "resolved without a person" in done.stdout
    assert "booking" in done.stdout and "handoff" in done.stdout

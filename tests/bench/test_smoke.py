"""The benchmarks still run (tiny data, few epochs). Their figures are measured by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    for system in ("parlez", "tfidf+logreg", "minilm fine-tune"):
        assert system in done.stdout
    assert "SMOKE" in done.stdout


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


def bench_output(script: str, *args: str) -> str:
    """What `bench/<script> --smoke ARGS` prints; it must exit 0."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--smoke", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_webchat_benchmark_smoke_prints_its_table(assistant_models: Path) -> None:
    if not Path("/usr/bin/chromium").exists():
        missing("chromium")
    out = bench_output("webchat.py", "--models", str(assistant_models))
    assert "widget.js gzipped (KB)" in out and "send to reply p50 (ms)" in out


def test_conversation_benchmark_smoke_prints_its_table(assistant_models: Path) -> None:
    out = bench_output("conversations.py", "--models", str(assistant_models))
    assert "resolved without a person" in out
    assert "booking" in out and "handoff" in out
    # the console's report counts what the benchmark counts
    assert "the console's report" in out
    for figure in ("conversations", "bookings made", "leads", "handed over"):
        row = next(line for line in out.splitlines() if f" {figure} " in line and "│" in line)
        shown, counted = (cell.strip() for cell in row.split("│")[2:4])
        assert shown == counted, row


@pytest.mark.parametrize(
    "file",
    [
        "conversations_languages.yml",
        "conversations_languages_heldout.yml",
        "conversations_languages_heldout2.yml",
        "conversations_heldout3.yml",
    ],
)
def test_conversation_benchmark_on_other_scripts_smoke_prints_its_table(
    assistant_models: Path, file: str
) -> None:
    scripts = REPO / "bench" / file
    out = bench_output(
        "conversations.py", "--models", str(assistant_models), "--scripts", str(scripts)
    )
    assert "resolved without a person" in out and "booking" in out


def test_booking_benchmark_smoke_counts_wrong_bookings_apart(assistant_models: Path) -> None:
    scripts = REPO / "bench" / "conversations_booking.yml"
    out = bench_output(
        "conversations.py", "--models", str(assistant_models), "--scripts", str(scripts)
    )
    assert "wrong" in out and "outside" in out and "resolved without a person" in out


def test_voice_benchmark_smoke_prints_its_tables(assistant_models: Path) -> None:
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng")
    out = bench_output("voice.py", "--models", str(assistant_models))
    assert "eSpeak NG says it, PocketSphinx hears it" in out and "RTF" in out
    assert "scripted calls through twilio_voice" in out and "p99" in out and "lead" in out


def test_start_benchmark_smoke_prints_its_table(assistant_models: Path) -> None:
    out = bench_output("start.py", "--models", str(assistant_models))
    assert "| cold | 1 |" in out and "| warm | 1 |" in out and "| restart | 1 |" in out


def test_fuzz_benchmark_smoke_prints_its_table_and_finds_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "fuzz.py"), "--smoke"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "| target | cases | 5xx | tracebacks | hangs |" in done.stdout
    for target in ("event dicts", "project files", "HTTP API"):
        assert target in done.stdout


@pytest.mark.parametrize("llm", [[], ["--llm", "reader"]], ids=["as written", "llm reader"])
def test_kb_benchmark_end_to_end_smoke_scores_replies_over_rest(
    assistant_models: Path, llm: list[str]
) -> None:
    """Both answer paths: as written, and through the LLM (a scripted reader on the local
    wire-format fake of Anthropic's API, reached by the real SDK from the served copy)."""
    out = bench_output(
        "kb.py", "--end-to-end", "--models", str(assistant_models), "--datasets", "dentist", *llm
    )
    row = next(line for line in out.splitlines() if line.startswith("| dentist"))
    cells = [c.strip().strip("*") for c in row.strip("|").split("|")]
    assert cells[1] == "40"  # the smoke run asks 40 questions
    assert abs(sum(float(c) for c in cells[2:5]) - 100) < 0.5  # right + abstained + wrong
    if llm:  # the reader answers what the search put in front of it, so most are right
        assert float(cells[2]) > 50


def test_console_benchmark_smoke_prints_its_table(assistant_models: Path) -> None:
    out = bench_output("console.py", "--models", str(assistant_models))
    assert "inbox, first page" in out and "saved -> change event" in out


def test_analytics_benchmark_smoke_prints_its_table(assistant_models: Path) -> None:
    out = bench_output("analytics.py", "--models", str(assistant_models))
    assert "every conversation counted" in out and "report, one label" in out
    assert "the reports' upkeep" in out


def test_cli_benchmark_smoke_prints_its_table() -> None:
    out = bench_output("cli.py")
    assert "parlez --help" in out and "parlez console --help" in out and "SMOKE" in out


def test_channels_benchmark_smoke_prints_its_table() -> None:
    """Three customers a channel: every forged request refused, nothing lost in the outage."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "channels.py"), "--customers", "3"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    rows = [line for line in done.stdout.splitlines() if "│" in line]
    assert len(rows) == 5, done.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.split("│")[1:-1]]
        assert cells[5] == "100.0" and cells[6] == "0 / 3", row


def test_multilingual_benchmark_smoke_gives_no_name_a_language(assistant_models: Path) -> None:
    out = bench_output("multilingual.py", "--sentiment", "--kb", "--models", str(assistant_models))
    assert "3-5 words" in out and "SMOKE" in out
    # both sets of knowledge-base questions, searched and then asked of the assistant
    assert "queries_heldout.yml" in out and "asked of the assistant" in out
    assert "names and addresses given a language: 0/" in out
    assert "negative found" in out
    # the trained assistant: which angry customers it hands over, which requests it keeps
    assert "angry to a person" in out and "keep their intent:" in out


def test_faults_benchmark_smoke_loses_and_repeats_nothing(assistant_models: Path) -> None:
    """Two replicas of the assistant behind nginx through every fault, its action server,
    LLM, calendar and CRM included: no acknowledged message lost, none stored twice, no
    conversation answered by two replicas at once, every event broadcast, every booking the
    customer was told of in the calendar and every lead in the CRM."""
    import shutil

    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing("nginx")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "faults.py"),
            "--smoke",
            "--models",
            str(assistant_models),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for fault in ("kill", "postgres", "redis", "rabbitmq", "llm", "calendar", "crm", "actions"):
        assert f"| {fault} |" in done.stdout, done.stdout
    header = next(line for line in done.stdout.splitlines() if line.startswith("| booked"))
    lines = done.stdout.splitlines()
    cells = lines[lines.index(header) + 2].strip("|").split("|")
    kept = dict(zip([c.strip() for c in header.strip("|").split("|")], cells, strict=True))
    assert int(kept["booked"]) > 0 and int(kept["leads"]) > 0, done.stdout


def test_openapi_benchmark_smoke_finds_no_5xx_and_no_response_off_the_description(
    assistant_models: Path,
) -> None:
    shared_path("compat", "rasa-3.0.4")
    out = bench_output("openapi.py", "--models", str(assistant_models))
    rows = [line for line in out.splitlines() if line.startswith("| parlez's") or "Rasa 3" in line]
    assert len(rows) == 2, out
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert int(cells[2]) > 100 and cells[4:6] == ["0", "0"], row  # cases; 5xx, checks failed
    assert "tracebacks in the server's log: 0" in out


def test_soak_benchmark_smoke_swaps_models_under_load_and_loses_nothing(
    assistant_models: Path,
) -> None:
    out = bench_output("soak.py", "--models", str(assistant_models))
    header = next(line for line in out.splitlines() if line.startswith("| messages"))
    row = out.splitlines()[out.splitlines().index(header) + 2]
    cells = dict(zip(header.strip("|").split("|"), row.strip("|").split("|"), strict=True))
    values = {key.strip(): value.strip() for key, value in cells.items()}
    assert int(values["messages"]) > 20 and int(values["swaps"]) >= 2, out
    assert values["errors"] == values["lost"] == values["duplicated"] == "0", out

"""Dialogue benchmark: train each assistant end to end, replay its test stories, time messages.

    python bench/dialogue.py                     # moodbot, formbot and the repository's assistant
    python bench/dialogue.py --projects moodbot  # one of them
    python bench/dialogue.py --smoke             # moodbot, few messages: for CI

Each project runs in its own process (so peak RSS is its own). Training is `parlez train`
from scratch (NLU and dialogue seconds from the archive's metadata); accuracy is the share of
test stories that pass and of actions predicted right; latency is `Agent.handle_text` in
process, one message at a time, on the test stories' user messages over many conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "compat"
PROJECTS = {"moodbot": SHARED / "moodbot", "formbot": SHARED / "formbot", "assistant": REPO}


def run_project(name: str, messages: int) -> dict[str, Any]:
    from parlez.agent import Agent
    from parlez.diagnostics import collect
    from parlez.evaluation.stories import evaluate_stories
    from parlez.events import UserUttered
    from parlez.inference import run_on_inference_thread
    from parlez.model import opened, read_metadata
    from parlez.project import Project
    from parlez.training import train

    project = Project(PROJECTS[name])
    with tempfile.TemporaryDirectory() as models, collect():
        started = time.perf_counter()
        # As `parlez run` does: every model trained, loaded and run on one thread.
        result = run_on_inference_thread(train, project, Path(models), force=True)
        total = time.perf_counter() - started
        with opened(result.archive) as folder:
            seconds = read_metadata(folder).training_seconds
        agent = Agent.load(result.archive)
        evaluation = asyncio.run(evaluate_stories(agent, project.test_stories))
        texts = [
            e.text
            for block in project.test_stories
            for step in block.steps
            for e in step.events
            if isinstance(e, UserUttered) and e.text
        ] or ["hello"]

        async def timed() -> list[float]:
            latencies = []
            for index in range(messages):
                text = texts[index % len(texts)]
                began = time.perf_counter()
                await agent.handle_text(text, f"user-{index // len(texts)}")
                latencies.append((time.perf_counter() - began) * 1000)
            return latencies

        latencies = sorted(asyncio.run(timed()))
    targets, predictions = evaluation.action_targets, evaluation.action_predictions
    return {
        "train_seconds": total,
        "nlu_seconds": seconds.get("nlu", 0.0),
        "core_seconds": seconds.get("core", 0.0),
        "stories": len(evaluation.stories),
        "stories_passed": len(evaluation.stories) - len(evaluation.failed),
        "action_accuracy": sum(t == p for t, p in zip(targets, predictions, strict=True))
        / max(len(targets), 1),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", nargs="+", default=list(PROJECTS), choices=list(PROJECTS))
    parser.add_argument("--messages", type=int, default=500, help="messages timed per project")
    parser.add_argument("--smoke", action="store_true", help="moodbot, 20 messages: for CI")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.projects, args.messages = ["moodbot"], 20
    if args.one:
        print(json.dumps(run_project(args.one, args.messages)))
        return
    rows = []
    for name in args.projects:
        if not PROJECTS[name].is_dir():
            raise SystemExit(f"{PROJECTS[name]} is missing")
        done = subprocess.run(
            [sys.executable, __file__, "--one", name, "--messages", str(args.messages)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            check=False,
        )
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{name} failed")
        rows.append((name, json.loads(done.stdout.strip().splitlines()[-1])))
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Dialogue benchmark" + (" — SMOKE, not a result" if args.smoke else ""))
    for column in (
        "project",
        "train s",
        "NLU s",
        "core s",
        "stories passed",
        "actions right %",
        "p50 ms",
        "p99 ms",
        "peak RSS MB",
    ):
        table.add_column(column, justify="left" if column == "project" else "right")
    for name, r in rows:
        table.add_row(
            name,
            f"{r['train_seconds']:.1f}",
            f"{r['nlu_seconds']:.1f}",
            f"{r['core_seconds']:.1f}",
            f"{r['stories_passed']} / {r['stories']}",
            f"{r['action_accuracy'] * 100:.1f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            f"{r['peak_rss_mb']:.0f}",
        )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()

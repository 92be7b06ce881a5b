"""Fuzzing benchmark: hostile requests to a real `parlez run`, broken project files through
every reader, and malformed event dicts, in far larger numbers than the suite runs.

    python bench/fuzz.py                      # 5,000 requests, 200 seeds of file mutations, 20,000 events
    python bench/fuzz.py --requests 500 --file-seeds 20 --events 2000
    python bench/fuzz.py --requests 0 --file-seeds 0     # only the event dicts (0 skips a target)
    python bench/fuzz.py --smoke              # a few of each: for CI

Printed per target: cases, answers of 500 or more, tracebacks (in the server's log, or
exceptions other than parlez's own errors), hangs (no answer in 10 s, or a server that
stops answering /version), the slowest case, and peak memory against the idle process.
Goal: 0 / 0 / 0, with the server's peak memory under 2x its idle memory.
The strategies are the suite's (tests/fuzzing.py); the suite runs them with small budgets.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parlez.events import Event, EventError  # noqa: E402
from parlez.exceptions import ParlezError  # noqa: E402
from parlez.registry import components, policies  # noqa: E402
from parlez.tracker import DialogueStateTracker  # noqa: E402
from tests import fuzzing, small_assistant  # noqa: E402
from tests.server.process import parlez_run  # noqa: E402
from tests.test_file_fuzz import FILES, read_everything, write_project  # noqa: E402

HANG_SECONDS = 10.0


@dataclass
class Tally:
    target: str
    cases: int = 0
    server_errors: int = 0
    tracebacks: int = 0
    hangs: int = 0
    slowest: float = 0.0
    peak_mb: float = 0.0
    idle_mb: float = 0.0
    examples: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(what[:300])

    def row(self) -> str:
        ratio = f"{self.peak_mb / self.idle_mb:.2f}x" if self.idle_mb else "-"
        idle = f"{self.idle_mb:,.0f}" if self.idle_mb else "-"
        return (
            f"| {self.target} | {self.cases:,} | {self.server_errors} | {self.tracebacks} | "
            f"{self.hangs} | {self.slowest * 1000:,.0f} | {self.peak_mb:,.0f} | {idle} | {ratio} |"
        )


def draw(strategy: st.SearchStrategy[Any], count: int, at: int) -> list[Any]:
    """`count` values of a Hypothesis strategy (fewer if it runs out of distinct ones)."""
    values: list[Any] = []
    if count < 1:
        return values

    @seed(at)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        values.append(value)

    collect()
    return values


def memory_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


HOSTILE: list[tuple[str, str, bytes, dict[str, str]]] = [
    (
        "POST",
        "/model/test/stories",
        fuzzing.alias_bomb(9).encode(),
        {"Content-Type": "application/x-yaml"},
    ),
    (
        "POST",
        "/model/train",
        fuzzing.alias_bomb(9).encode(),
        {"Content-Type": "application/x-yaml"},
    ),
    (
        "POST",
        "/conversations/x/tracker/events",
        b"[" * 100_000 + b"]" * 100_000,
        {"Content-Type": "application/json"},
    ),
    ("POST", "/webhooks/rest/webhook", b"{" * 50_000, {"Content-Type": "application/json"}),
    (
        "POST",
        "/model/train",
        json.dumps({"domain": "x: [1"}).encode(),
        {"Content-Type": "application/json"},
    ),
    ("GET", "/status?token=s%C3%A9cret", b"", {}),
    (
        "POST",
        "/conversations/x/tracker/events",
        b'{"event": "slot", "name": "a"}',
        {"Content-Type": "text/plain"},
    ),
]


def fuzz_server(count: int, at: int) -> Tally:
    tally = Tally("HTTP API and REST channel (`parlez run --enable-api`)")
    requests = HOSTILE + draw(fuzzing.requests(), count, at)
    with tempfile.TemporaryDirectory(prefix="parlez-fuzz-") as folder:
        root = Path(folder)
        for name, text in (
            ("domain.yml", small_assistant.DOMAIN),
            ("config.yml", small_assistant.CONFIG),
            ("data/nlu.yml", small_assistant.NLU),
            ("data/rules.yml", small_assistant.RULES),
        ):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text.lstrip("\n"), encoding="utf-8")
        with (
            parlez_run(root, "--enable-api") as server,
            httpx.Client(timeout=HANG_SECONDS) as client,
        ):
            pid = server.process.pid
            for text in ("hello", "I am in Paris", "bye"):
                client.post(
                    f"{server.url}/webhooks/rest/webhook", json={"sender": "warm", "message": text}
                )
            tally.idle_mb = memory_mb(pid, "VmRSS")
            for number, (method, path, body, headers) in enumerate(requests):
                tally.cases += 1
                started = time.perf_counter()
                try:
                    reply = client.request(method, server.url + path, content=body, headers=headers)
                except httpx.TimeoutException:
                    tally.hangs += 1
                    tally.note(f"hang: {method} {path} {body[:120]!r}")
                    continue
                except httpx.HTTPError as error:
                    tally.server_errors += 1
                    tally.note(f"no answer ({error}): {method} {path} {body[:120]!r}")
                    continue
                tally.slowest = max(tally.slowest, time.perf_counter() - started)
                if reply.status_code >= 500:
                    tally.server_errors += 1
                    tally.note(f"{reply.status_code}: {method} {path} {body[:120]!r}")
                if number % 100 == 0:
                    try:
                        client.get(f"{server.url}/version", timeout=5)
                    except httpx.HTTPError:
                        tally.hangs += 1
                        tally.note(f"/version stopped answering after {method} {path}")
            tally.peak_mb = memory_mb(pid, "VmHWM")
            tally.tracebacks = server.log.count("Traceback (most recent call last)")
            if tally.tracebacks:
                tally.note(server.log[server.log.index("Traceback") :][:300])
    return tally


def fuzz_files(seeds: int, at: int) -> Tally:
    tally = Tally("project files (every reader, `parlez data validate`'s order)")
    rng_seeds = random.Random(at)
    for registry in (components, policies):  # imported once, before any case is timed
        registry.names()
    with tempfile.TemporaryDirectory(prefix="parlez-fuzz-files-") as folder:
        for broken in sorted(FILES):
            for _ in range(seeds):
                rng = random.Random(rng_seeds.randrange(2**32))
                for how, content in fuzzing.mutations(FILES[broken].lstrip("\n"), rng):
                    tally.cases += 1
                    root = Path(tempfile.mkdtemp(dir=folder))
                    write_project(root, broken, content)
                    tracemalloc.start()
                    started = time.perf_counter()
                    try:
                        read_everything(root)
                    except ParlezError as error:
                        if error.where is None or not error.where.path:
                            tally.tracebacks += 1
                            tally.note(f"{broken} {how}: no file named: {error}")
                    except Exception as error:
                        tally.tracebacks += 1
                        tally.note(f"{broken} {how}: {type(error).__name__}: {error}")
                    elapsed = time.perf_counter() - started
                    _, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                    tally.slowest = max(tally.slowest, elapsed)
                    tally.peak_mb = max(tally.peak_mb, peak / 1024 / 1024)
                    if elapsed > HANG_SECONDS:
                        tally.hangs += 1
                        tally.note(f"{broken} {how}: {elapsed:.1f} s")
    return tally


def fuzz_events(count: int, at: int) -> Tally:
    tally = Tally("event dicts (read, applied, written back)")
    kinds: Counter[str] = Counter()
    cases = draw(fuzzing.event_dicts(), count, at)
    tracemalloc.start()
    for data in cases:
        tally.cases += 1
        started = time.perf_counter()
        try:
            event = Event.from_dict(data)
            tracker = DialogueStateTracker("fuzzed")
            tracker.update(event)
            json.dumps(tracker.current_state("all"))
            written = event.to_dict()
            if Event.from_dict(json.loads(json.dumps(written))).to_dict() != written:
                tally.tracebacks += 1
                tally.note(f"does not round-trip: {data!r}")
            kinds["read"] += 1
        except EventError:
            kinds["refused"] += 1
        except Exception as error:
            tally.tracebacks += 1
            tally.note(f"{type(error).__name__}: {error}: {data!r}")
        tally.slowest = max(tally.slowest, time.perf_counter() - started)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tally.peak_mb = peak / 1024 / 1024
    tally.target += f" — {kinds['read']:,} read, {kinds['refused']:,} refused"
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--file-seeds", type=int, default=200, help="mutation seeds per file")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a few of each (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.file_seeds, args.events = 40, 1, 200
    tallies = []
    if args.events:
        tallies.append(fuzz_events(args.events, args.seed))
    if args.file_seeds:
        tallies.append(fuzz_files(args.file_seeds, args.seed))
    if args.requests:
        tallies.append(fuzz_server(args.requests, args.seed))
    print(
        "| target | cases | 5xx | tracebacks | hangs | slowest ms | peak MB | idle MB | peak / idle |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tally in tallies:
        print(tally.row())
    print("(peak MB: the server's resident peak for HTTP; Python allocations for files and events)")
    found = [e for t in tallies for e in t.examples]
    for example in found:
        print("  -", example)
    return 1 if any(t.server_errors or t.tracebacks or t.hangs for t in tallies) else 0


if __name__ == "__main__":
    raise SystemExit(main())

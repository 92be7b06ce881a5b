"""Start benchmark: how long a new `parlez run` of the repository's assistant takes to answer.

    python bench/start.py                  # 5 starts with the compiled encoder, 2 without
    python bench/start.py --smoke          # 1 of each: for CI

Each start is a new `parlez run` process serving the trained model in `--models` (trained
into a temporary folder first when none is given), its conversations in SQLite, its actions
in-process, as `make run` serves it. Measured from the process's launch:

- ready: the server says it is serving, after its warm-up (the model, the English and the
  multilingual encoders, the knowledge base's indexes, the language detector);
- first answers: the REST channel has answered "hello" and then a question in French.

"restart" starts are those of a server that has run before: the sentence encoder is compiled
in the cache folder and the conversations' database exists. "warm" starts find the cache
too, but a new database, whose tables (the console's through its 15 migrations) are made
first, as on a project's first start; "cold" ones get an empty cache folder and a new
database, as the very first start on a machine does. All read parlez's modules compiled to
bytecode, as an installed parlez does (pip compiles them; an editable install's first run
does), even where PYTHONDONTWRITEBYTECODE is set: compiling its modules at each start took
0.2-0.4 s of it. Printed: p50 and max seconds of each, and the servers' largest peak RSS.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.server.process import ServerProcess, assistant_endpoints  # noqa: E402

MESSAGES = ["hello", "vous êtes ouverts le samedi ?"]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one_start(
    models: Path, cache: Path, database: Path | None = None
) -> tuple[float, float, float]:
    """(ready s, first answers s, peak RSS MB) of one new server process; its conversations
    in `database` (a folder kept between starts), or in a new one."""
    with tempfile.TemporaryDirectory(prefix="parlez-start-") as work:
        endpoints = assistant_endpoints(database or Path(work))
        os.environ["PARLEZ_CACHE_DIR"] = str(cache)  # the server inherits it
        began = time.perf_counter()
        server = ServerProcess(REPO, "--endpoints", str(endpoints), "-m", str(models))
        try:
            server.wait_ready()
            ready = time.perf_counter() - began
            for text in MESSAGES:
                reply = httpx.post(
                    f"{server.url}/webhooks/rest/webhook",
                    json={"sender": "bench-start", "message": text},
                    timeout=120,
                )
                reply.raise_for_status()
                if not reply.json():
                    raise RuntimeError(f"no answer to {text!r}")
            answered = time.perf_counter() - began
            rss = peak_rss_mb(server.process.pid)
        finally:
            server.terminate()
    return ready, answered, rss


def compiled() -> None:
    """The servers started from here read compiled bytecode (in `__pycache__/`, which git
    ignores), as an installed parlez's do."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "parlez", "actions", "connectors"],
        cwd=REPO,
        check=True,
    )


def trained(models: Path | None, folder: Path) -> Path:
    if models is not None:
        return models
    from parlez.project import Project
    from parlez.training import train

    print("training the assistant first...", flush=True)
    train(Project(REPO), folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 start of each: for CI")
    parser.add_argument("--models", type=Path, help="a folder with the trained assistant")
    parser.add_argument("--runs", type=int, default=5, help="warm starts")
    parser.add_argument("--cold-runs", type=int, default=2, help="starts with an empty cache")
    args = parser.parse_args()
    warm_runs, cold_runs = (1, 1) if args.smoke else (args.runs, args.cold_runs)
    compiled()
    with tempfile.TemporaryDirectory(prefix="parlez-start-bench-") as work:
        folder = Path(work)
        models = trained(args.models, folder / "models")
        rows: dict[str, list[tuple[float, float, float]]] = {"cold": [], "warm": [], "restart": []}
        for run in range(cold_runs):
            rows["cold"].append(one_start(models, folder / f"empty-cache-{run}"))
        warm_cache, database = folder / "cache", folder / "database"
        database.mkdir()
        one_start(models, warm_cache, database)  # compiles the encoder, makes the tables
        for _ in range(warm_runs):  # one after the other: the same load on the machine
            rows["warm"].append(one_start(models, warm_cache))
            rows["restart"].append(one_start(models, warm_cache, database))
    print()
    print("| start | runs | ready p50 s | ready max s | first answers p50 s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, starts in rows.items():
        if not starts:
            continue
        ready = [s[0] for s in starts]
        answered = [s[1] for s in starts]
        print(
            f"| {name} | {len(starts)} | {statistics.median(ready):.2f} | {max(ready):.2f} | "
            f"{statistics.median(answered):.2f} | {max(s[2] for s in starts):.0f} |"
        )


if __name__ == "__main__":
    main()

"""How long reading Rasa training data takes: each benchmark file, and whole projects.

    python bench/load.py [--repeat 5]

Prints one row per input: examples read, median and worst wall time over the repeats, and
the peak Python memory of one read (tracemalloc). Needs ../shared next to the repository.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parlez.diagnostics import collect  # noqa: E402
from parlez.project import DataFiles, Project, read_data_file  # noqa: E402

SHARED = REPO.parent / "shared"
FILES = [
    "bench/nlu/clinc150/train.yml",
    "bench/nlu/snips/train.yml",
    "bench/nlu/snips_goo2018/train.yml",
]
PROJECTS = ["compat/formbot", "compat/moodbot"]


def read_file(path: Path) -> int:
    files = DataFiles()
    read_data_file(path, files)
    return len(files.nlu.examples)


def read_project(path: Path) -> int:
    with collect():
        project = Project(path)
        project.domain  # noqa: B018 - reading is what is measured
        project.test_stories  # noqa: B018
        return len(project.training_data.examples) + len(project.stories) + len(project.rules)


def measure(work: Callable[[], int], repeat: int) -> tuple[int, list[float], float]:
    tracemalloc.start()
    count = work()
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return count, times, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is missing: the benchmark data lives there")
    table = Table(title=f"Loading training data (median of {args.repeat} runs)")
    for column in ("input", "items", "median s", "max s", "items/s", "peak MB"):
        table.add_column(column, justify="left" if column == "input" else "right")
    inputs: list[tuple[str, Callable[[], int]]] = []
    inputs += [(name, lambda p=SHARED / name: read_file(p)) for name in FILES]
    inputs += [(name, lambda p=SHARED / name: read_project(p)) for name in PROJECTS]
    for name, work in inputs:
        count, times, peak = measure(work, args.repeat)
        median = statistics.median(times)
        table.add_row(
            name,
            str(count),
            f"{median:.3f}",
            f"{max(times):.3f}",
            f"{count / median:,.0f}",
            f"{peak:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()

"""CLI benchmark: how long `parlez --help` and each command's --help take, the first thing a
newcomer types.

    python bench/cli.py              # 10 runs of each
    python bench/cli.py --smoke      # 2 runs: for CI

Each is a new process (`python -m parlez ...`), as a shell runs it. Printed: p50 and max
seconds of each, and the largest peak memory of them. Goal: `parlez --help` under 0.5 s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = [
    [],
    ["init"],
    ["data"],
    ["train"],
    ["test"],
    ["shell"],
    ["interactive"],
    ["run"],
    ["kb"],
    ["console"],
]


def timed(argv: list[str]) -> float:
    """Seconds of one `python -m parlez ARGV --help`."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "parlez", *argv, "--help"], capture_output=True, check=True
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="2 runs of each, for CI")
    args = parser.parse_args()
    runs = 2 if args.smoke else args.runs
    print(f"{'command':28} {'p50 s':>7} {'max s':>7}")
    for argv in COMMANDS:
        seconds = [timed(argv) for _ in range(runs)]
        name = " ".join(["parlez", *argv, "--help"])
        print(f"{name:28} {statistics.median(seconds):7.2f} {max(seconds):7.2f}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory of a command: {peak:.0f} MB{'  (SMOKE)' if args.smoke else ''}")


if __name__ == "__main__":
    main()

"""Shutdown benchmark: clients keep sending to `parlez run` through SIGTERM, run after run.

    python bench/shutdown.py                 # 9 runs, 8 keep-alive clients each
    python bench/shutdown.py --runs 3 --clients 16

Each run serves the small assistant that tests/server/test_run.py serves (conversations in
SQLite), lets the clients send until `--before` messages are answered, sends SIGTERM, and
lets them go on until each is refused. Every `--slow-every`-th message is a "goodbye",
which runs a 1.5 s action, so that messages are being handled when the signal comes; the
others are answered in milliseconds.
Printed per run: messages answered, refused (a 503 or a refused connection), cut off (the
connection closed with no answer), other errors, answered although sent after the server
said it stopped, answered but not stored, stored but not answered, seconds from the signal
to the process's exit, and its exit code. Goal: the last four columns 0, 0, 0 and 0, and
an exit within the 30 s docs/server.md promises.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.server.shutdown import send_through_sigterm  # noqa: E402
from tests.server.test_run import SQLITE_ENDPOINTS, e2e_project  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--before", type=int, default=40, help="answers before the signal")
    parser.add_argument("--slow-every", type=int, default=5, help="every Nth message is slow")
    args = parser.parse_args()
    print(
        "| run | answered | refused | cut off | errors | taken after stop | "
        "answered, not stored | stored, not answered | s to exit | exit |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = False
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="parlez-shutdown-") as folder:
            outcome = send_through_sigterm(
                e2e_project(Path(folder), SQLITE_ENDPOINTS),
                clients=args.clients,
                before=args.before,
                slow_every=args.slow_every,
            )
        print(f"| {run} {outcome.row()}", flush=True)
        failed |= bool(
            outcome.errors
            or outcome.taken_after_stop
            or outcome.answered_not_stored
            or outcome.stored_not_answered
            or outcome.exit_code != 0
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

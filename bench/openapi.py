"""Schemathesis against a real `parlez run` of the repository's assistant (API on, a JWT
secret set, the web chat and the console served), through two descriptions:

- parlez's own (`GET /openapi.json`): every response must conform to it (status code,
  content type, body schema, headers) and none may be a 5xx;
- Rasa 3.0.4's published one (`../shared/compat/rasa-3.0.4/openapi.yml`): no 5xx; where its
  description disagrees with Rasa's own server, parlez answers as Rasa's server does
  (docs/server.md lists those places), so only status codes are reported, not failed.

    python bench/openapi.py                          # 100 examples an operation
    python bench/openapi.py --examples 20 --models DIR
    python bench/openapi.py --smoke --models DIR     # a few an operation: for CI

Printed per description: operations, cases generated, requests the server counted, its 5xx
answers (from its own /metrics), checks failed (unique, by code), schemathesis's own errors.
`DELETE /model` is left out: once the model is unloaded every other case only tests 409.
Needs schemathesis (the dev extra).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.conversations import prepare  # noqa: E402
from tests.server.process import parlez_run  # noqa: E402

RASA_DESCRIPTION = REPO.parent / "shared" / "compat" / "rasa-3.0.4" / "openapi.yml"
SECRET = "a-secret-only-this-benchmark-knows-0123456789"
OWN_CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance"
)
RASA_CHECKS = "not_a_server_error"


@dataclass
class Run:
    description: str
    operations: int = 0
    cases: int = 0
    requests: int = 0
    server_errors: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    tool_errors: int = 0
    seconds: float = 0.0
    report: Path | None = None

    def row(self) -> str:
        failed = ", ".join(f"{code} x{n}" for code, n in sorted(self.failures.items())) or "0"
        return (
            f"| {self.description} | {self.operations} | {self.cases} | {self.requests} | "
            f"{self.server_errors} | {failed} | {self.tool_errors} | {self.seconds:.0f} |"
        )


def server_counts(client: httpx.Client, url: str) -> tuple[int, int]:
    """(requests answered, of which 5xx) from the server's Prometheus counter."""
    text = client.get(f"{url}/metrics").text
    total = errors = 0
    for line in text.splitlines():
        if not line.startswith("parlez_http_requests_total{"):
            continue
        labels, value = line.rsplit(" ", 1)
        count = int(float(value))
        total += count
        if 'status="5' in labels:
            errors += count
    return total, errors


#: `st` itself, with one accommodation: caldav's HTTP client brings urllib3-future, which
#: takes urllib3's place in this environment, and its pool container has no `keys()`, which
#: schemathesis counts connections by (only to decide whether to resend a request on a
#: connection the server had closed: it now always does, as browsers do).
ST = """
import sys
import schemathesis.transport.requests as transport
from schemathesis.cli import schemathesis

transport._count_opened_connections = lambda session: 0
sys.argv[0] = "st"
sys.exit(schemathesis())
"""


def schemathesis(description: str, url: str, token: str, checks: str, examples: int) -> Path:
    """`st run`; its JSON report's path."""
    report = Path(tempfile.mkdtemp(prefix="parlez-st-")) / "report.json"
    command = [
        sys.executable,
        "-c",
        ST,
        "run",
        description,
        "--url",
        url,
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        checks,
        "--max-examples",
        str(examples),
        "--exclude-method",
        "DELETE",
        "--request-timeout",
        "60",
        "--seed",
        "0",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--workers",
        "2",
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=report.parent)
    if not report.exists():
        raise SystemExit(f"schemathesis did not run:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    (report.parent / "output.txt").write_text(done.stdout, encoding="utf-8")
    return report


def measure(name: str, description: str, url: str, token: str, checks: str, examples: int) -> Run:
    run = Run(name)
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        before = server_counts(client, url)
        started = time.perf_counter()
        report = schemathesis(description, url, token, checks, examples)
        run.seconds = time.perf_counter() - started
        after = server_counts(client, url)
    data = json.loads(report.read_text())
    run.report = report
    run.operations = data["operations"]["tested"]
    run.cases = data["test_cases"]["generated"]
    run.requests = after[0] - before[0] - 1  # less the first /metrics
    run.server_errors = after[1] - before[1]
    for failure in data["failures"]:
        run.failures[failure["title"]] = run.failures.get(failure["title"], 0) + failure["count"]
    run.tool_errors = sum(error["count"] for error in data["errors"])
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--examples", type=int, default=100, help="examples an operation")
    parser.add_argument("--smoke", action="store_true", help="a few an operation (CI)")
    args = parser.parse_args()
    examples = 3 if args.smoke else args.examples
    token = jwt.encode({"user": {"username": "bench", "role": "admin"}}, SECRET, "HS256")
    with tempfile.TemporaryDirectory(prefix="parlez-openapi-") as tmp:
        folder = Path(tmp)
        model = prepare(folder, args.models)
        shutil.copy(REPO / "credentials.yml", folder / "credentials.yml")
        with parlez_run(folder, "-m", str(model), "--enable-api", "--jwt-secret", SECRET) as server:
            runs = [
                measure(
                    "parlez's /openapi.json",
                    f"{server.url}/openapi.json",
                    server.url,
                    token,
                    OWN_CHECKS,
                    examples,
                ),
            ]
            if RASA_DESCRIPTION.exists():
                runs.append(
                    measure(
                        "Rasa 3.0.4's openapi.yml",
                        str(RASA_DESCRIPTION),
                        server.url,
                        token,
                        RASA_CHECKS,
                        examples,
                    )
                )
            tracebacks = server.log.count("Traceback (most recent call last)")
            log = Path(tempfile.mkdtemp(prefix="parlez-st-")) / "server.log"
            log.write_text(server.log, encoding="utf-8")
    print(f"{'SMOKE: ' if args.smoke else ''}{examples} examples an operation")
    print("| description | operations | cases | requests | 5xx | checks failed | tool errors | s |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    for run in runs:
        print(run.row())
    print(f"tracebacks in the server's log: {tracebacks}" + (f" ({log})" if tracebacks else ""))
    for run in runs:
        if run.failures or run.server_errors:
            print(f"details: {run.report.parent / 'output.txt' if run.report else ''}")
    return 1 if tracebacks or any(r.failures or r.server_errors for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())

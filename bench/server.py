"""Server benchmark: `parlez run` on 127.0.0.1, N simulated users talking over REST.

    python bench/server.py                          # both configurations, 50 users
    python bench/server.py --config sqlite --users 50 --turns 6
    python bench/server.py --smoke                  # a few users, SQLite: for CI

    python bench/server.py --replicas 1 2 4 --think 0 --turns 20   # the scaling curve

Configurations:
- `sqlite`: one process, conversations in SQLite, in-memory locks.
- `postgres-redis`: two processes on PostgreSQL + Redis behind nginx round-robin (a small
  Python TCP proxy where nginx is not installed), one request per connection, so consecutive
  messages of one user alternate processes.
- `--replicas N ...`: `postgres-redis` with each number of processes in turn, and a second
  table: messages per second per core of this machine, p50/p99, per replica count.
Replicas get the machine's cores divided among them as torch threads (`PARLEZ_TORCH_THREADS`).

Each user sends a conversation of `--turns` messages, all users at once, pausing `--think`
seconds (on average; uniformly 0.5x-1.5x) between messages as a person reading and typing
does; `--think 0` measures the saturation throughput instead. Printed: latency
p50/p95/p99 (per message, as the user sees it), messages per second, errors, each server's
RSS, time from starting `parlez run` to ready, and a check in the tracker store that every
message produced its events exactly once (one `user` event per message sent, no duplicates).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.faults import nginx  # noqa: E402
from tests.server.process import ServerProcess  # noqa: E402
from tests.services import start_postgres, start_redis  # noqa: E402

PROJECT = REPO
NGINX = Path("/usr/sbin/nginx").exists() or shutil.which("nginx") is not None

SCRIPT = [
    "hello",
    "what are your opening hours?",
    "which services do you offer?",
    "how much does it cost?",
    "are you a bot?",
    "thank you",
    "bye",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def proxy(backends: list[int]) -> tuple[asyncio.Server, int]:
    """Round-robin TCP proxy: each new connection goes to the next backend."""
    turn = itertools.cycle(backends)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", next(turn))
        except OSError:
            writer.close()
            return
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def drive(
    url: str, users: int, turns: int, run_id: str, fresh_connections: bool, think: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    sent: dict[str, int] = {}
    limits = httpx.Limits(max_keepalive_connections=0 if fresh_connections else users)

    async def user(n: int, client: httpx.AsyncClient) -> None:
        sender = f"{run_id}-user{n}"
        sent[sender] = 0
        rng = random.Random(n)
        await asyncio.sleep(rng.uniform(0, think))  # users do not all arrive at once
        for turn in range(turns):
            if turn:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            text = SCRIPT[turn % len(SCRIPT)]
            started = time.perf_counter()
            try:
                reply = await client.post(
                    f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                )
                ok = reply.status_code == 200 and isinstance(reply.json(), list)
            except httpx.HTTPError as error:
                ok, reply = False, None
                errors.append(f"{type(error).__name__}: {error}")
            latencies.append(time.perf_counter() - started)
            if ok:
                sent[sender] += 1
            elif reply is not None:
                errors.append(f"HTTP {reply.status_code}: {reply.text[:100]}")

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        # Steady state: the first knowledge-base question builds the index and loads the
        # encoder (seconds, once a process; `ready s` is reported apart). Each process the
        # balancer reaches is warmed by the rounds below.
        for _ in range(4):
            for text in SCRIPT:
                await client.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": f"{run_id}-warm", "message": text},
                )
        started = time.perf_counter()
        await asyncio.gather(*(user(n, client) for n in range(users)))
        seconds = time.perf_counter() - started
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    return {
        "messages": len(latencies),
        "seconds": seconds,
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
        "p99_ms": ms[int(0.99 * (len(ms) - 1))],
        "msg_per_s": len(latencies) / seconds,
        "errors": len(errors),
        "error_examples": errors[:3],
        "sent": sent,
    }


def check_events(rows: list[tuple[str, str]], sent: dict[str, int]) -> tuple[int, int]:
    """(lost, duplicated) user messages, from (sender_id, event json) rows of the store."""
    per_sender: dict[str, list[str]] = {}
    for sender, data in rows:
        event = json.loads(data)
        if event["event"] == "user":
            per_sender.setdefault(sender, []).append(event.get("message_id") or "")
    lost = duplicated = 0
    for sender, count in sent.items():
        ids = per_sender.get(sender, [])
        duplicated += len(ids) - len(set(ids))
        lost += max(0, count - len(set(ids)))
    return lost, duplicated


def endpoints_file(folder: Path, tracker_store: str, lock_store: str = "") -> Path:
    path = folder / "endpoints.yml"
    actions = (
        "action_endpoint:\n  actions_module: actions\n" if (PROJECT / "actions").is_dir() else ""
    )
    path.write_text(actions + tracker_store + lock_store, "utf-8")
    return path


def start_servers(count: int, endpoints: Path, models: Path) -> list[tuple[ServerProcess, float]]:
    started = []
    for _ in range(count):
        began = time.perf_counter()
        server = ServerProcess(PROJECT, "--endpoints", str(endpoints), "-m", str(models))
        server.wait_ready()
        started.append((server, time.perf_counter() - began))
    return started


def run_sqlite(users: int, turns: int, models: Path, think: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="parlez-bench-") as work:
        folder = Path(work)
        db = folder / "conversations.db"
        endpoints = endpoints_file(
            folder, f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n"
        )
        ((server, ready),) = start_servers(1, endpoints, models)
        try:
            result = asyncio.run(
                drive(server.url, users, turns, uuid.uuid4().hex[:6], False, think)
            )
            rss = [rss_mb(server.process.pid)]
        finally:
            server.terminate()
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT sender_id, data FROM events").fetchall()
    lost, duplicated = check_events(rows, result["sent"])
    return {**result, "ready_s": [ready], "rss_mb": rss, "lost": lost, "duplicated": duplicated}


def run_postgres_redis(
    users: int, turns: int, models: Path, think: float, replicas: int = 2
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="parlez-bench-") as work:
        folder = Path(work)
        (folder / "pg").mkdir()
        (folder / "redis").mkdir()
        postgres_gen = start_postgres(folder / "pg")
        redis_gen = start_redis(folder / "redis")
        postgres = next(postgres_gen)
        redis = next(redis_gen)
        try:
            postgres.psql("CREATE DATABASE bench")
            endpoints = endpoints_file(
                folder,
                "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n"
                f"  port: {postgres.port}\n  username: {postgres.user}\n  db: bench\n",
                f"lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: {redis.port}\n",
            )
            # the machine's cores shared among the replicas, as docs/server.md says to
            cores = len(os.sched_getaffinity(0))
            os.environ["PARLEZ_TORCH_THREADS"] = str(max(1, cores // replicas))
            try:
                servers = start_servers(replicas, endpoints, models)
            finally:
                del os.environ["PARLEZ_TORCH_THREADS"]
            try:
                ports = [s.port for s, _ in servers]

                async def balanced() -> dict[str, Any]:
                    # nginx balances, as deployed; the small Python proxy (where nginx is not
                    # installed) would take CPU from the replicas at saturation
                    async with contextlib.AsyncExitStack() as stack:
                        if NGINX:
                            port = stack.enter_context(nginx(folder, ports))
                        else:
                            server, port = await proxy(ports)
                            await stack.enter_async_context(server)
                        return await drive(
                            f"http://127.0.0.1:{port}",
                            users,
                            turns,
                            uuid.uuid4().hex[:6],
                            True,
                            think,
                        )

                result = asyncio.run(balanced())
                rss = [rss_mb(s.process.pid) for s, _ in servers]
            finally:
                for s, _ in servers:
                    s.terminate()
            rows_text = postgres.psql(
                "SELECT sender_id || chr(9) || data FROM events WHERE type_name = 'user'", "bench"
            )
            rows = [tuple(line.split("\t", 1)) for line in rows_text.splitlines() if line]
        finally:
            for gen in (postgres_gen, redis_gen):
                with contextlib.suppress(StopIteration):
                    next(gen)
    lost, duplicated = check_events(rows, result["sent"])  # type: ignore[arg-type]
    return {
        **result,
        "ready_s": [r for _, r in servers],
        "rss_mb": rss,
        "lost": lost,
        "duplicated": duplicated,
    }


def ensure_model(models: Path) -> None:
    if not list(models.glob("*.tar.gz")):
        subprocess.run(
            [sys.executable, "-m", "parlez", "train", "--out", str(models)],
            cwd=PROJECT,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def table(rows: dict[str, dict[str, Any]]) -> str:
    head = (
        "| configuration | users x turns | think s | p50 ms | p95 ms | p99 ms | msg/s | errors | "
        "lost | duplicated | ready s | RSS MB |"
    )
    lines = [head, "|" + "---|" * 12]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['users']} x {r['turns']} | {r['think']:g} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['msg_per_s']:.0f} | {r['errors']} | {r['lost']} | "
            f"{r['duplicated']} | {' / '.join(f'{x:.1f}' for x in r['ready_s'])} | "
            f"{' / '.join(f'{x:.0f}' for x in r['rss_mb'])} |"
        )
    return "\n".join(lines)


def scaling(rows: dict[str, dict[str, Any]]) -> str:
    """Throughput per replica count, and per core of this machine (the load generator and
    the databases share those cores)."""
    cores = len(os.sched_getaffinity(0))
    lines = [
        "| replicas | cores | msg/s | msg/s per core | p50 ms | p99 ms | RSS MB (all) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name.rsplit('x', 1)[1]} | {cores} | {r['msg_per_s']:.0f} | "
            f"{r['msg_per_s'] / cores:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{sum(r['rss_mb']):.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=["sqlite", "postgres-redis", "all"], default="all")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--project", type=Path, default=REPO, help="the assistant to serve")
    parser.add_argument(
        "--models", type=Path, default=None, help="model folder (default: the project's models/)"
    )
    parser.add_argument("--think", type=float, default=2.0, help="seconds between messages")
    parser.add_argument("--smoke", action="store_true", help="5 users x 3 turns on SQLite")
    parser.add_argument(
        "--replicas", type=int, nargs="+", help="postgres-redis with each number of processes"
    )
    args = parser.parse_args()
    if args.smoke:
        args.config, args.users, args.turns, args.think = "sqlite", 5, 3, 0.1
        print("SMOKE run: figures are not measurements")
    global PROJECT
    PROJECT = args.project.resolve()
    models = (args.models or PROJECT / "models").resolve()
    models.mkdir(parents=True, exist_ok=True)
    ensure_model(models)
    configs = ["sqlite", "postgres-redis"] if args.config == "all" else [args.config]
    if args.replicas:
        configs = [f"postgres-redis x{n}" for n in args.replicas]
    rows: dict[str, dict[str, Any]] = {}
    for name in configs:
        if name == "sqlite":
            result = run_sqlite(args.users, args.turns, models, args.think)
        else:
            replicas = int(name.rsplit("x", 1)[1]) if " x" in name else 2
            result = run_postgres_redis(args.users, args.turns, models, args.think, replicas)
        rows[name] = {**result, "users": args.users, "turns": args.turns, "think": args.think}
        for example in rows[name]["error_examples"]:
            print(f"  {name} error: {example}", file=sys.stderr)
    print(table(rows))
    if args.replicas:
        print()
        print(scaling(rows))
    failed = any(r["errors"] or r["lost"] or r["duplicated"] for r in rows.values())
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

"""Soak: `parlez run` of the repository's assistant under steady load for an hour, with the
model swapped (`PUT /model`) every 5 minutes.

    python bench/soak.py                              # 60 minutes, a swap every 300 s
    python bench/soak.py --minutes 20 --swap-every 120
    python bench/soak.py --smoke --models DIR         # 45 s, a swap every 12 s: for CI

Users hold 7-message conversations over the REST channel with `--think` seconds between
messages, and start a new conversation (a new sender) after each, so the store grows as a
business's does. The server's RSS is read every 10 s. Printed: messages, errors, p50/p99
in the first and the last window (10 minutes, or a third of a shorter run), RSS at the end
of the first window and at the end, swaps done, and messages lost or stored twice (read
back from the SQLite store). Goals: RSS growth < 5 %, p99 flat, 0 errors, 0 lost.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.conversations import prepare  # noqa: E402
from bench.server import SCRIPT, check_events, rss_mb  # noqa: E402
from tests.server.process import parlez_run  # noqa: E402


@dataclass
class Soak:
    #: (seconds since start, latency in seconds) of every answered message
    latencies: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: (seconds since start, RSS MB)
    rss: list[tuple[float, float]] = field(default_factory=list)
    swaps: int = 0
    swap_errors: int = 0
    sent: dict[str, int] = field(default_factory=dict)


async def user(n: int, url: str, think: float, deadline: float, began: float, soak: Soak) -> None:
    rng = random.Random(n)
    conversation = 0
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < deadline:
            conversation += 1
            sender = f"soak-{n}-{conversation}"
            soak.sent[sender] = 0
            for text in SCRIPT:
                if time.monotonic() >= deadline:
                    return
                started = time.monotonic()
                try:
                    reply = await client.post(
                        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                    )
                    if reply.status_code == 200:
                        soak.latencies.append((started - began, time.monotonic() - started))
                        soak.sent[sender] += 1
                    else:
                        soak.errors.append(f"HTTP {reply.status_code}: {reply.text[:120]}")
                except httpx.HTTPError as error:
                    soak.errors.append(f"{type(error).__name__}: {error}")
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def swap_models(
    url: str, archives: list[Path], every: float, deadline: float, soak: Soak
) -> None:
    async with httpx.AsyncClient(timeout=300) as client:
        turn = 0
        while time.monotonic() + every < deadline:
            await asyncio.sleep(every)
            turn += 1
            reply = await client.put(
                f"{url}/model", json={"model_file": str(archives[turn % len(archives)])}
            )
            if reply.status_code == 204:
                soak.swaps += 1
            else:
                soak.swap_errors += 1
                soak.errors.append(f"swap: HTTP {reply.status_code}: {reply.text[:120]}")


async def watch_memory(pid: int, deadline: float, began: float, soak: Soak) -> None:
    while time.monotonic() < deadline:
        soak.rss.append((time.monotonic() - began, rss_mb(pid)))
        await asyncio.sleep(10)
    soak.rss.append((time.monotonic() - began, rss_mb(pid)))


async def soak_server(
    url: str, pid: int, archives: list[Path], users: int, think: float, seconds: float, swap: float
) -> Soak:
    soak = Soak()
    began = time.monotonic()
    deadline = began + seconds
    await asyncio.gather(
        watch_memory(pid, deadline, began, soak),
        swap_models(url, archives, swap, deadline, soak),
        *(user(n, url, think, deadline, began, soak) for n in range(users)),
    )
    return soak


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] * 1000 if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--swap-every", type=float, default=300, help="seconds")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between messages")
    parser.add_argument("--smoke", action="store_true", help="45 s, a swap every 12 s (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.minutes, args.swap_every, args.users = 0.75, 12, 5
    seconds = args.minutes * 60
    window = min(600.0, seconds / 3)
    with tempfile.TemporaryDirectory(prefix="parlez-soak-") as tmp:
        folder = Path(tmp)
        model = prepare(folder, args.models)
        # two archives of one model: each swap reads and loads a whole model again
        archives = [folder / "models" / f"soak-{side}.tar.gz" for side in "ab"]
        for archive in archives:
            archive.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(model, archive)
        with parlez_run(folder, "-m", str(archives[0]), "--enable-api") as server:
            # the knowledge base's index and encoder load on the first question: not a leak
            for text in SCRIPT:
                httpx.post(
                    f"{server.url}/webhooks/rest/webhook",
                    json={"sender": "soak-warm-up", "message": text},
                    timeout=120,
                )
            soak = asyncio.run(
                soak_server(
                    server.url,
                    server.process.pid,
                    archives,
                    args.users,
                    args.think,
                    seconds,
                    args.swap_every,
                )
            )
            tracebacks = server.log.count("Traceback (most recent call last)")
        with sqlite3.connect(folder / "conversations.db") as connection:
            rows = connection.execute("SELECT sender_id, data FROM events").fetchall()
    lost, duplicated = check_events(rows, soak.sent)
    first = [latency for at, latency in soak.latencies if at <= window]
    last = [latency for at, latency in soak.latencies if at >= seconds - window]
    rss_first = next((mb for at, mb in soak.rss if at >= window), soak.rss[-1][1])
    rss_end = soak.rss[-1][1]
    growth = 100 * (rss_end - rss_first) / rss_first
    print(
        f"{'SMOKE: ' if args.smoke else ''}{args.minutes:g} min, {args.users} users, "
        f"think {args.think:g} s, a swap every {args.swap_every:g} s; windows of {window:.0f} s"
    )
    print(
        "| messages | msg/s | errors | swaps | p50 first / last ms | p99 first / last ms | "
        "RSS first / end MB | RSS growth | lost | duplicated | tracebacks |"
    )
    print("|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|")
    print(
        f"| {len(soak.latencies)} | {len(soak.latencies) / seconds:.1f} | {len(soak.errors)} | "
        f"{soak.swaps} | {percentile(first, 0.5):.1f} / {percentile(last, 0.5):.1f} | "
        f"{percentile(first, 0.99):.1f} / {percentile(last, 0.99):.1f} | "
        f"{rss_first:.0f} / {rss_end:.0f} | {growth:+.1f} % | {lost} | {duplicated} | "
        f"{tracebacks} |"
    )
    windows = [
        percentile(
            [latency for at, latency in soak.latencies if start <= at < start + window], 0.99
        )
        for start in range(0, int(seconds), int(window))
    ]
    print("p99 by window (ms):", " / ".join(f"{p99:.0f}" for p99 in windows))
    if len(soak.rss) > 2:
        rss = [mb for _, mb in soak.rss]
        print(
            f"RSS min / median / max MB: {min(rss):.0f} / {statistics.median(rss):.0f} / {max(rss):.0f}"
        )
    for error in soak.errors[:5]:
        print("  error:", error)
    return 1 if soak.errors or lost or duplicated or tracebacks else 0


if __name__ == "__main__":
    raise SystemExit(main())

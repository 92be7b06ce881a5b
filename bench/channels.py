"""Messaging channels under load: 50 customers at once on each platform, against the
platforms' local stand-ins, through a real `parlez run`.

    python bench/channels.py                  # 50 customers a channel, 3 messages each
    python bench/channels.py --customers 5    # a quick run (the CI smoke test)

A small assistant (greet, a city, goodbye) is trained in a temporary folder and served with
the facebook, instagram, twilio, telegram and slack channels, each pointed at its platform's
local stand-in (tests/fakes/). For each channel, every customer says three things, each
delivered twice at the same moment (as a platform retrying a webhook would), and sends one
request with a forged signature. Then the platform goes down for 1.5 seconds while 50 more
customers write. Printed per channel:

- webhook-to-reply latency p50 / p99 (ms): the webhook answers once the reply was handed to
  the platform, so its round trip is the time from the customer's message to the answer;
- throughput (messages answered per second);
- duplicate deliveries absorbed (%): the second copy answered nothing;
- forged requests rejected (%): must be 100;
- messages lost in the outage: the answers that never reached the platform (must be 0);
- and the server's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parlez.project import Project  # noqa: E402
from parlez.training import train  # noqa: E402
from tests import small_assistant  # noqa: E402
from tests.channels.platforms import (  # noqa: E402
    Instagram,
    Messenger,
    Platform,
    Slack,
    Telegram,
    Twilio,
)
from tests.fakes import meta, slack, telegram, twilio  # noqa: E402
from tests.server.process import parlez_run  # noqa: E402

SAID = ["hello", "I live in Berlin", "bye"]
OUTAGE = 1.5  # seconds


class Reply:
    def __init__(self, status: int) -> None:
        self.status = status


class HttpApp:
    """The served app as the platform drivers call it (`app.asgi_client.post`), over HTTP."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.asgi_client = self
        self.client = client

    async def post(self, path: str, **options: Any) -> tuple[None, Reply]:
        reply = await self.client.post(path, **options)
        return None, Reply(reply.status_code)


@dataclass
class Result:
    channel: str
    latencies: list[float] = field(default_factory=list)
    answered: int = 0
    seconds: float = 0.0
    duplicates: int = 0
    absorbed: int = 0
    forged: int = 0
    rejected: int = 0
    outage_messages: int = 0
    lost: int = 0


def project(folder: Path) -> Path:
    for name, text in (
        ("domain.yml", small_assistant.DOMAIN),
        ("config.yml", small_assistant.CONFIG),
        ("data/nlu.yml", small_assistant.NLU),
        ("data/rules.yml", small_assistant.RULES),
    ):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return train(Project(folder), folder / "models").archive


def credentials(graph: meta.FakeGraph, sms: Any, bot: Any, chat: Any) -> str:
    return f"""
facebook:
  verify: verify
  secret: app-secret
  page-access-token: {graph.token}
  graph_url: {graph.url}
instagram:
  verify: verify
  secret: app-secret
  page-access-token: {graph.token}
  graph_url: {graph.url}
twilio:
  account_sid: {twilio.ACCOUNT}
  auth_token: {twilio.TOKEN}
  twilio_number: "{Twilio.number}"
  webhook_url: {Twilio.public}
  api_url: {sms.url}
telegram:
  access_token: {telegram.TOKEN}
  verify: bench_bot
  webhook_url: https://bot.example.com/webhooks/telegram/webhook
  api_url: {bot.url}
slack:
  slack_token: {slack.TOKEN}
  slack_signing_secret: {slack.SIGNING_SECRET}
  api_url: {chat.url}
"""


async def customer(app: HttpApp, chosen: Platform, number: int, result: Result) -> None:
    for turn, text in enumerate(SAID):
        message_id = f"{chosen.name}-{number}-{turn}"
        started = time.perf_counter()
        await asyncio.gather(
            chosen.say(app, number, text, message_id), chosen.say(app, number, text, message_id)
        )
        result.latencies.append((time.perf_counter() - started) * 1000)
        result.duplicates += 1
    forged = await chosen.forged(app, number, "hello", f"{chosen.name}-{number}-forged")
    result.forged += 1
    result.rejected += forged.status == 403


async def run_channel(app: HttpApp, chosen: Platform, fake: Any, customers: int) -> Result:
    result = Result(chosen.name)
    started = time.perf_counter()
    await asyncio.gather(*(customer(app, chosen, n, result) for n in range(1, customers + 1)))
    result.seconds = time.perf_counter() - started
    for number in range(1, customers + 1):
        got = len(chosen.texts(number))
        result.answered += min(got, len(SAID))
        result.absorbed += len(SAID) - max(0, got - len(SAID))
    # The outage: every request to the platform fails for OUTAGE seconds.
    late = range(customers + 1, 2 * customers + 1)
    fake.down_until = time.time() + OUTAGE
    await asyncio.gather(*(chosen.say(app, n, "bye", f"{chosen.name}-{n}-out") for n in late))
    result.outage_messages = len(late)
    result.lost = sum("Bye" not in chosen.texts(n) for n in late)
    return result


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(url: str, drivers: list[tuple[Platform, Any]], customers: int) -> list[Result]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        app = HttpApp(client)
        return [await run_channel(app, chosen, fake, customers) for chosen, fake in drivers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50, help="at once, on each channel")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp, ExitStack() as stack:
        folder = Path(temp)
        model = project(folder)
        graph = stack.enter_context(meta.fake_graph())
        sms = stack.enter_context(twilio.fake_twilio())
        bot = stack.enter_context(telegram.fake_telegram())
        chat = stack.enter_context(slack.fake_slack())
        (folder / "credentials.yml").write_text(credentials(graph, sms, bot, chat))
        drivers: list[tuple[Platform, Any]] = [
            (Messenger(graph), graph),
            (Instagram(graph), graph),
            (Twilio(sms), sms),
            (Telegram(bot), bot),
            (Slack(chat), chat),
        ]
        args = ("-m", str(model), "--credentials", str(folder / "credentials.yml"))
        with parlez_run(folder, *args) as server:
            results = asyncio.run(measure(server.url, drivers, options.customers))
            memory = peak_memory_mb(server.process.pid)
    table = Table(title=f"{options.customers} customers at once on each channel")
    for column in (
        "channel",
        "latency p50 ms",
        "p99 ms",
        "answered / s",
        "duplicates absorbed %",
        "forged rejected %",
        "lost in the outage",
    ):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for r in results:
        ordered = sorted(r.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        table.add_row(
            r.channel,
            f"{statistics.median(ordered):.0f}",
            f"{p99:.0f}",
            f"{r.answered / r.seconds:.1f}",
            f"{100 * r.absorbed / max(r.duplicates, 1):.1f}",
            f"{100 * r.rejected / max(r.forged, 1):.1f}",
            f"{r.lost} / {r.outage_messages}",
        )
    console = Console()
    console.print(table)
    console.print(f"server peak memory: {memory:.0f} MB")


if __name__ == "__main__":
    main()

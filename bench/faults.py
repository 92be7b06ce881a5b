"""Fault injection under load: replicas of `parlez run` behind nginx, on PostgreSQL, Redis and
RabbitMQ, while conversations keep talking; then what each fault cost.

    python bench/faults.py                          # 2 replicas, 50 conversations, every fault
    python bench/faults.py --replicas 4 --phase 20
    python bench/faults.py --faults kill redis      # some of them
    python bench/faults.py --smoke                  # 2 replicas, 10 conversations, short phases

Every server is real and local: PostgreSQL, Redis and RabbitMQ started for the run (as the
tests start them), nginx (Debian's) spreading requests over the replicas and trying the next
one on an error or a 503, and each replica a `parlez run` process serving the small assistant
(tests/server/test_run.py) with its conversations in PostgreSQL, its locks in Redis and its
events sent to RabbitMQ. Each conversation sends "I am in City<n>x<turn>" again and again
through nginx (REST channel), one message at a time, and keeps every message answered 200:
an acknowledged message.

The faults, one after the other, each followed by a phase of load (`--phase` seconds):
  kill      `kill -9` a replica mid-load; it is started again after 3 s
  postgres  PostgreSQL stopped (immediate mode, as a crash) and started again after 3 s
  redis     Redis stopped for 10 s (the locks with it), then started empty
  rabbitmq  RabbitMQ's broker stopped for 10 s, then started

Printed per phase (a request counts in the phase in which it ends): requests, errors (no 200: refused, 5xx, timeout), the error rate and the
commonest errors.
Then for the whole run, from PostgreSQL's events and RabbitMQ's queue:
  lost          acknowledged messages not stored
  duplicated    messages stored more than once
  interleaved   conversations in which a message's turn is cut by another message's (two
                replicas answering one conversation at once)
  not broadcast stored messages the broker's queue never received
Goal: 0 for each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import write  # noqa: E402
from tests.server.process import ServerProcess, replica_endpoints  # noqa: E402
from tests.server.test_run import e2e_project  # noqa: E402
from tests.services import (  # noqa: E402
    Postgres,
    RabbitMQ,
    Redis,
    free_port,
    start_postgres,
    start_rabbitmq,
    start_redis,
    wait_for_port,
)

QUEUE = "parlez_faults"
FAULTS = ("kill", "postgres", "redis", "rabbitmq")


@dataclass
class Phase:
    name: str
    requests: int = 0
    errors: int = 0
    #: what the errors were: an HTTP status, or the client's exception
    kinds: Counter[str] = field(default_factory=Counter)

    def failed(self, kind: str) -> None:
        self.errors += 1
        self.kinds[kind] += 1

    def row(self) -> str:
        rate = 100 * self.errors / self.requests if self.requests else 0.0
        kinds = ", ".join(f"{kind} x{count}" for kind, count in self.kinds.most_common(3))
        return f"| {self.name} | {self.requests} | {self.errors} | {rate:.1f} % | {kinds} |"


@dataclass
class Run:
    phases: list[Phase] = field(default_factory=list)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    #: the phase each acknowledged message was sent in
    phase_of: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def phase(self) -> Phase:
        return self.phases[-1]


class Replicas:
    """`parlez run` processes on fixed ports, each startable again after a kill."""

    def __init__(self, project: Path, count: int) -> None:
        self.project = project
        self.ports = [free_port() for _ in range(count)]
        self.servers: list[ServerProcess] = []

    def start(self, index: int) -> ServerProcess:
        server = ServerProcess(self.project, port=self.ports[index])
        server.wait_ready()
        return server

    def __enter__(self) -> Replicas:
        self.servers = [self.start(i) for i in range(len(self.ports))]
        return self

    def __exit__(self, *_: object) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.terminate()
            errors = [line for line in server.output if line.startswith("ERROR")]
            if errors:
                print(
                    f"replica :{server.port} logged {len(errors)} error(s), e.g. {errors[0][:300]}"
                )
            if os.environ.get("PARLEZ_FAULTS_LOGS"):  # each replica's whole log, to read
                log = Path(os.environ["PARLEZ_FAULTS_LOGS"]) / f"replica-{server.port}.log"
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text("".join(server.output))


@contextmanager
def nginx(folder: Path, ports: list[int]) -> Iterator[int]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    upstream = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports
    )
    config = write(
        folder / "nginx.conf",
        f"""
        pid {folder}/nginx.pid;
        error_log {folder}/nginx-error.log;
        daemon off;
        events {{ worker_connections 1024; }}
        http {{
            access_log off;
            client_body_temp_path {folder};
            upstream parlez {{
        {upstream}
            }}
            server {{
                listen 127.0.0.1:{port};
                location / {{
                    proxy_pass http://parlez;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_next_upstream error timeout http_502 http_503;
                    proxy_read_timeout 60s;
                }}
            }}
        }}
        """,
    )
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        log = (folder / "nginx-error.log").read_text(errors="replace").splitlines()
        upstream = [line for line in log if "upstream" in line]
        if upstream:  # why nginx answered 502: what the replicas did to it
            print(f"nginx logged {len(upstream)} upstream error(s), e.g. {upstream[0][:300]}")


async def talk(url: str, conversations: int, run: Run, stop: asyncio.Event) -> None:
    async def conversation(n: int) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            turn = 0
            while not stop.is_set():
                turn += 1
                text = f"I am in City{n}x{turn}"
                failure = ""
                try:
                    reply = await client.post(
                        f"{url}/webhooks/rest/webhook", json={"sender": f"c{n}", "message": text}
                    )
                except httpx.HTTPError as error:
                    reply, failure = None, type(error).__name__
                # Counted in the phase it ends in: a request cut off by a fault is the fault's.
                phase = run.phase
                phase.requests += 1
                if reply is not None and reply.status_code == 200:
                    run.acknowledged.append((f"c{n}", text))
                    run.phase_of[(f"c{n}", text)] = phase.name
                    continue
                phase.failed(failure if reply is None else str(reply.status_code))
                await asyncio.sleep(0.2)

    await asyncio.gather(*(conversation(n) for n in range(conversations)))


def inject(
    fault: str, replicas: Replicas, postgres: Postgres, redis: Redis, rabbitmq: RabbitMQ
) -> Callable[[], None]:
    """Cause `fault`; what to call to recover from it."""
    if fault == "kill":
        replicas.servers[0].process.kill()
        replicas.servers[0].process.wait(30)

        def back() -> None:
            time.sleep(3)
            replicas.servers[0] = replicas.start(0)

        return back
    if fault == "postgres":
        postgres.stop()
        return lambda: (time.sleep(3), postgres.start())  # type: ignore[func-returns-value]
    if fault == "redis":
        redis.stop()
        return lambda: (time.sleep(10), redis.start())  # type: ignore[func-returns-value]
    if fault == "rabbitmq":
        rabbitmq.stop()
        return lambda: (time.sleep(10), rabbitmq.start())  # type: ignore[func-returns-value]
    raise ValueError(fault)


async def load_with_faults(
    url: str,
    conversations: int,
    faults: list[str],
    seconds: float,
    replicas: Replicas,
    services: tuple[Postgres, Redis, RabbitMQ],
) -> Run:
    run = Run([Phase("no fault")])
    stop = asyncio.Event()
    talking = asyncio.create_task(talk(url, conversations, run, stop))
    await asyncio.sleep(seconds)
    for fault in faults:
        run.phases.append(Phase(fault))
        recover = inject(fault, replicas, *services)
        await asyncio.to_thread(recover)
        await asyncio.sleep(seconds)
    run.phases.append(Phase("after the faults"))
    await asyncio.sleep(seconds)
    stop.set()
    await talking
    return run


def stored(postgres: Postgres, db: str) -> list[tuple[str, str, str, str]]:
    """(sender, event, action or text) of every event, in the order saved."""
    rows = postgres.psql(
        "SELECT sender_id || chr(9) || type_name || chr(9) || coalesce(action_name, '') || "
        "chr(9) || coalesce(data::json->>'text', '') FROM events ORDER BY id",
        db,
    )
    # psql trims the output's last tab when the last event has no text
    found = []
    for line in rows.splitlines():
        sender, kind, action, text = [*line.split("\t", 3), "", ""][:4]
        found.append((sender, kind, action, text))
    return found


def interleaved(events: list[tuple[str, str, str, str]]) -> int:
    """Conversations in which a user message comes before the last one's turn ended."""
    listening: dict[str, bool] = defaultdict(lambda: True)
    broken: set[str] = set()
    for sender, kind, action, _ in events:
        if kind == "user":
            if not listening[sender]:
                broken.add(sender)
            listening[sender] = False
        elif kind == "action" and action == "action_listen":
            listening[sender] = True
    return len(broken)


def broadcast(rabbitmq: RabbitMQ) -> Counter[tuple[str, str]]:
    """The user messages RabbitMQ's queue received."""
    import pika

    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", rabbitmq.port))
    channel = connection.channel()
    got: Counter[tuple[str, str]] = Counter()
    while True:
        method, _, body = channel.basic_get(QUEUE, auto_ack=True)
        if method is None:
            break
        event = json.loads(body)
        if event.get("event") == "user":
            got[(event["sender_id"], event.get("text") or "")] += 1
    connection.close()
    return got


@dataclass
class Verdict:
    acknowledged: int
    lost: int
    duplicated: int
    interleaved: int
    not_broadcast: int
    #: the phases the messages not broadcast were sent in ("unacknowledged": stored, but
    #: the sender got no answer)
    not_broadcast_in: Counter[str] = field(default_factory=Counter)

    def failed(self) -> bool:
        return bool(self.lost or self.duplicated or self.interleaved or self.not_broadcast)


def judge(
    run: Run, events: list[tuple[str, str, str, str]], got: Counter[tuple[str, str]]
) -> Verdict:
    users = Counter((sender, text) for sender, kind, _, text in events if kind == "user")
    return Verdict(
        acknowledged=len(run.acknowledged),
        lost=sum(1 for message in run.acknowledged if message not in users),
        duplicated=sum(count - 1 for count in users.values() if count > 1),
        interleaved=interleaved(events),
        not_broadcast=sum(1 for message in users if message not in got),
        not_broadcast_in=Counter(
            run.phase_of.get(message, "unacknowledged") for message in users if message not in got
        ),
    )


def bench(
    replicas: int, conversations: int, faults: list[str], seconds: float
) -> tuple[Run, Verdict]:
    with tempfile.TemporaryDirectory(prefix="parlez-faults-") as name, ExitStack() as stack:
        folder = Path(name)
        postgres = stack.enter_context(contextmanager(start_postgres)(folder / "pg"))
        redis = stack.enter_context(contextmanager(start_redis)(_mkdir(folder / "redis")))
        rabbitmq = stack.enter_context(contextmanager(start_rabbitmq)(_mkdir(folder / "mq")))
        db = f"f{uuid.uuid4().hex[:10]}"
        postgres.psql(f"CREATE DATABASE {db}")
        project = e2e_project(
            _mkdir(folder / "project"), replica_endpoints(postgres, db, redis, rabbitmq, QUEUE)
        )
        servers = stack.enter_context(Replicas(project, replicas))
        port = stack.enter_context(nginx(_mkdir(folder / "nginx"), servers.ports))
        print(f"{replicas} replicas behind nginx, {conversations} conversations", flush=True)
        run = asyncio.run(
            load_with_faults(
                f"http://127.0.0.1:{port}",
                conversations,
                faults,
                seconds,
                servers,
                (postgres, redis, rabbitmq),
            )
        )
        time.sleep(2)  # the last events reach the broker
        return run, judge(run, stored(postgres, db), broadcast(rabbitmq))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--phase", type=float, default=15.0, help="seconds of load per phase")
    parser.add_argument("--faults", nargs="*", choices=FAULTS, default=list(FAULTS))
    parser.add_argument("--smoke", action="store_true", help="a short run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.conversations, args.phase = 10, 4.0
    run, verdict = bench(args.replicas, args.conversations, args.faults, args.phase)
    print("| phase | requests | errors | error rate | errors seen |")
    print("|---|---:|---:|---:|---|")
    for phase in run.phases:
        print(phase.row())
    print()
    print("| acknowledged | lost | duplicated | interleaved | not broadcast |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {verdict.acknowledged} | {verdict.lost} | {verdict.duplicated} | "
        f"{verdict.interleaved} | {verdict.not_broadcast} |"
    )
    if verdict.not_broadcast_in:
        print("not broadcast, by phase:", dict(verdict.not_broadcast_in))
    return 1 if verdict.failed() else 0


if __name__ == "__main__":
    sys.exit(main())

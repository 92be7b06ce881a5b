"""Fault injection under load: replicas of `parlez run` behind nginx, on PostgreSQL, Redis and
RabbitMQ, while conversations keep talking; then what each fault cost.

    python bench/faults.py                          # the assistant, 2 replicas, 50 conversations
    python bench/faults.py --replicas 4 --phase 20
    python bench/faults.py --faults kill calendar   # some of them
    python bench/faults.py --small                  # the small assistant: faster, more messages
    python bench/faults.py --smoke --models DIR     # 10 users, 4 s phases and outages: for CI

Every server is real and local: PostgreSQL, Redis and RabbitMQ started for the run (as the
tests start them), nginx (Debian's) spreading requests over the replicas and trying the next
one on an error or a 503, and each replica a `parlez run` process with its conversations in
PostgreSQL, its locks in Redis and its events sent to RabbitMQ.

By default the replicas serve the repository's assistant (its latest model in `--models`,
default models/) as a business deploys it: its actions on an action server (`parlez run
actions`), its knowledge-base answers phrased by an LLM (a local stand-in speaking
Anthropic's Messages API), its bookings in a CalDAV calendar (Radicale), its leads synced to
a CRM (a local stand-in speaking HubSpot's API), and the outbox retried by its job
(`jobs:`, every 5 s here). Each conversation asks a question of the knowledge base, books a
haircut at a time of its own, gives a name and an address, asks to be contacted (no to the
offers) and says goodbye; then the next conversation of that user starts with a new sender.
With `--small`, each replica serves the small assistant of tests/server/test_run.py (its
action in-process), and each conversation sends "I am in City<n>x<turn>" again and again;
the faults of the services it does not use are left out.

Each message carries a reference in its metadata, and every message answered 200 is an
acknowledged message.

The faults, one after the other, each followed by a phase of load (`--phase` seconds):
  kill      `kill -9` a replica mid-load; it is started again after 3 s
  postgres  PostgreSQL stopped (immediate mode, as a crash) and started again after 3 s
  redis     Redis stopped for 10 s (the locks with it), then started empty
  rabbitmq  RabbitMQ's broker stopped for 10 s, then started
  llm       the LLM's port closed for 10 s
  calendar  the CalDAV server stopped for 10 s
  crm       the CRM's port closed for 10 s
  actions   the action server stopped for 10 s, then started again (last: a new action
            server loads its knowledge base at its first question)

Printed per phase (a request counts in the phase in which it ends): requests, errors (no 200:
refused, 5xx, timeout), the error rate, answers that were the action-failed fallback, and the
commonest errors.
Then for the whole run, from PostgreSQL's events and RabbitMQ's queue:
  lost          acknowledged messages not stored
  duplicated    messages stored more than once
  interleaved   conversations in which a message's turn is cut by another message's (two
                replicas answering one conversation at once)
  not broadcast stored messages the broker's queue never received
And for the assistant, from the calendar and the CRM once the retry job has had a minute:
  booked / queued       customers told "You're booked" / "I couldn't reach our calendar"
  to the team           queued bookings whose time was taken meanwhile, e-mailed to the team
  not in the calendar   the others, customers with no appointment in the calendar
  twice                 appointments more than one per customer
  leads / not in CRM    customers told the team will get back to them, and of those, the
                        ones whose address is not among the CRM's contacts
Goal: 0 for each.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parlez.core.actions.custom import ACTION_FAILED_TEXT  # noqa: E402
from tests.conftest import write  # noqa: E402
from tests.fakes import hubspot, llm  # noqa: E402
from tests.fakes.http import Server  # noqa: E402
from tests.server.process import ServerProcess, replica_endpoints  # noqa: E402
from tests.server.test_run import e2e_project  # noqa: E402
from tests.services import (  # noqa: E402
    Postgres,
    RabbitMQ,
    Radicale,
    Redis,
    free_port,
    start_postgres,
    start_rabbitmq,
    start_radicale,
    start_redis,
    wait_for_port,
)

QUEUE = "parlez_faults"
#: faults of the servers every deployment has
INFRASTRUCTURE = ("kill", "postgres", "redis", "rabbitmq")
#: faults of the services the repository's assistant calls
SERVICES = ("llm", "calendar", "crm", "actions")
FAULTS = INFRASTRUCTURE + SERVICES

#: the assistant's clock: a Wednesday morning, so that March's weekdays are ahead
NOW = "2027-03-03T09:30:00+00:00"
#: the weekdays of the 8 weeks after NOW (the assistant books up to 60 days ahead), each
#: with a haircut (45 minutes) on the hour from 9:00 to 17:00
DAYS = [
    day
    for day in (dt.date(2027, 3, 4) + dt.timedelta(days=n) for n in range(56))
    if day.weekday() < 5
]
#: what the assistant says when a booking is made, kept for later, or a lead is taken
BOOKED = "You're booked"
QUEUED = "I couldn't reach our calendar just now"
LEAD_TAKEN = "Someone from the team will get back to you"


@dataclass
class Phase:
    name: str
    requests: int = 0
    errors: int = 0
    #: answers that were the action-failed fallback
    fallbacks: int = 0
    #: what the errors were: an HTTP status, or the client's exception
    kinds: Counter[str] = field(default_factory=Counter)

    def failed(self, kind: str) -> None:
        self.errors += 1
        self.kinds[kind] += 1

    def row(self) -> str:
        rate = 100 * self.errors / self.requests if self.requests else 0.0
        kinds = ", ".join(f"{kind} x{count}" for kind, count in self.kinds.most_common(3))
        return (
            f"| {self.name} | {self.requests} | {self.errors} | {rate:.1f} % | "
            f"{self.fallbacks} | {kinds} |"
        )


@dataclass
class Run:
    phases: list[Phase] = field(default_factory=list)
    #: (sender, reference) of every message answered 200
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    #: the phase each acknowledged message was sent in
    phase_of: dict[tuple[str, str], str] = field(default_factory=dict)
    #: what each sender was told
    told: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def phase(self) -> Phase:
        return self.phases[-1]


class Script(Protocol):
    """What user n says: conversations one after another, each a list of messages."""

    def sender(self, n: int, number: int) -> str: ...

    def messages(self, n: int, number: int) -> list[str]: ...


class CityScript:
    """The small assistant's: one endless conversation of "I am in City<n>x<turn>"."""

    def sender(self, n: int, number: int) -> str:
        return f"c{n}"

    def messages(self, n: int, number: int) -> list[str]:
        return [f"I am in City{n}x{number * 1000 + turn}" for turn in range(1, 1001)]


class AssistantScript:
    """The repository's assistant's: a question, a booking, a lead (no offers), goodbye."""

    def __init__(self, users: int) -> None:
        self.users = users

    def sender(self, n: int, number: int) -> str:
        return f"u{n}c{number}"

    def messages(self, n: int, number: int) -> list[str]:
        # A time of its own for each conversation (until the 360 are used up).
        slot = number * self.users + n
        day, hour = DAYS[slot % len(DAYS)], 9 + (slot // len(DAYS)) % 9
        clock = f"{(hour - 1) % 12 + 1} {'am' if hour < 12 else 'pm'}"
        return [
            "is there parking near you?",
            "I'd like to book a haircut",
            f"{day:%B} {day.day} at {clock}",
            "Sam Taylor",
            f"{self.sender(n, number)}@example.com",
            "yes",
            "can someone from the team contact me?",
            "no thanks",
            "bye",
        ]


class Replicas:
    """`parlez run` processes on fixed ports, each startable again after a kill."""

    def __init__(self, project: Path, count: int, *args: str) -> None:
        self.project = project
        self.args = args
        self.ports = [free_port() for _ in range(count)]
        self.servers: list[ServerProcess] = []

    def start(self, index: int) -> ServerProcess:
        server = ServerProcess(self.project, *self.args, port=self.ports[index])
        server.wait_ready()
        return server

    def __enter__(self) -> Replicas:
        self.servers = [self.start(i) for i in range(len(self.ports))]
        return self

    def __exit__(self, *_: object) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.terminate()
            report_log(f"replica :{server.port}", server.output)


def report_log(name: str, output: list[str]) -> None:
    errors = [line for line in output if line.startswith("ERROR")]
    if errors:
        print(f"{name} logged {len(errors)} error(s), e.g. {errors[0][:300]}")
    if os.environ.get("PARLEZ_FAULTS_LOGS"):  # each server's whole log, to read
        log = Path(os.environ["PARLEZ_FAULTS_LOGS"]) / f"{name.replace(' ', '-')}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(output))


class ActionServer:
    """`parlez run actions` in the project folder, on a fixed port, stoppable and startable."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhook"
        self.output: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parlez", "run", "actions", "-p", str(self.port)],
            cwd=self.project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        process = self.process

        def read() -> None:
            assert process.stdout is not None
            self.output.extend(process.stdout)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=5).is_success:
                    return
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the action server did not start:\n" + "".join(self.output))
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(60)
            self.process = None


@dataclass
class Assistant:
    """The repository's assistant in a folder of the run's own, with its services."""

    project: Path
    actions: ActionServer
    llm: Server
    llm_fake: llm.FakeLLM
    crm: Server
    crm_fake: hubspot.FakeHubSpot
    calendar: Radicale


def assistant_project(folder: Path, models: Path) -> Path:
    """The repository's assistant as a project folder of its own: its files linked, its
    business.yml and endpoints.yml written by the run, its knowledge-base index copied."""
    project = _mkdir(folder / "project")
    for name in (
        "domain.yml",
        "config.yml",
        "credentials.yml",
        "analytics.yml",
        "marketing.yml",
        "data",
        "actions",
        "connectors",
        "follow_ups",
    ):
        if (REPO / name).exists():
            (project / name).symlink_to(REPO / name)
    for index in (REPO / "models").glob("kb-index*"):
        shutil.copytree(index, project / "models" / index.name)
    return project


@contextmanager
def assistant(folder: Path, models: Path) -> Iterator[Assistant]:
    project = assistant_project(folder, models)
    with ExitStack() as stack:
        calendar = stack.enter_context(contextmanager(start_radicale)(_mkdir(folder / "dav")))
        crm_fake = hubspot.FakeHubSpot()
        crm = Server(crm_fake, hubspot._handler(crm_fake))
        crm.start()
        stack.callback(crm.stop)
        llm_fake = llm.FakeLLM(reply="Yes: the car park opposite the studio, first hour free [1].")
        llm_server = Server(llm_fake, llm._handler(llm_fake))
        llm_server.start()
        stack.callback(llm_server.stop)
        settings = (REPO / "business.yml").read_text()
        settings = settings.replace(
            "crm: {}", f"crm:\n  type: hubspot\n  url: {crm_fake.url}\n  token: {hubspot.TOKEN}"
        )
        settings = re.sub(
            r"  calendar:\n    type: local.*\n(?:\s+#.*\n)*",
            f"  calendar:\n    type: caldav\n    url: {calendar.url}\n"
            f"    username: {calendar.username}\n    password: {calendar.password}\n"
            "    timeout: 5\n",
            settings,
        )
        assert "type: caldav" in settings and "type: hubspot" in settings
        (project / "business.yml").write_text(settings)
        actions = ActionServer(project)
        yield Assistant(project, actions, llm_server, llm_fake, crm, crm_fake, calendar)


def assistant_endpoints(services: Assistant, common: str) -> str:
    return (
        common.replace("  actions_module: actions", f"  url: {services.actions.url}")
        + f"""
llm:
  type: anthropic
  model: claude-haiku-4-5
  api_key: not-a-real-key
  url: http://127.0.0.1:{services.llm_fake.port}
  timeout: 10
jobs:
  retry_outbox:
    run: actions.retry.retry_all
    every: 5
"""
    )


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


async def talk(url: str, users: int, script: Script, run: Run, stop: asyncio.Event) -> None:
    async def user(n: int) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            number = 0
            while not stop.is_set():
                sender = script.sender(n, number)
                for turn, text in enumerate(script.messages(n, number)):
                    if stop.is_set():
                        return
                    await say(client, url, sender, f"{number}.{turn}", text, run)
                number += 1

    await asyncio.gather(*(user(n) for n in range(users)))


async def say(
    client: httpx.AsyncClient, url: str, sender: str, ref: str, text: str, run: Run
) -> None:
    failure = ""
    try:
        reply = await client.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": {"ref": ref}},
        )
    except httpx.HTTPError as error:
        reply, failure = None, type(error).__name__
    # Counted in the phase it ends in: a request cut off by a fault is the fault's.
    phase = run.phase
    phase.requests += 1
    if reply is not None and reply.status_code == 200:
        run.acknowledged.append((sender, ref))
        run.phase_of[(sender, ref)] = phase.name
        texts = [str(m.get("text") or "") for m in reply.json()]
        run.told[sender] += texts
        phase.fallbacks += sum(1 for t in texts if t == ACTION_FAILED_TEXT)
        return
    phase.failed(failure if reply is None else str(reply.status_code))
    await asyncio.sleep(0.2)


def inject(
    fault: str,
    replicas: Replicas,
    postgres: Postgres,
    redis: Redis,
    rabbitmq: RabbitMQ,
    services: Assistant | None,
    outage: float = 10.0,
) -> Callable[[], None]:
    """Cause `fault`; what to call to recover from it (`outage` seconds later, 3 for a
    replica or PostgreSQL)."""
    if fault == "kill":
        replicas.servers[0].process.kill()
        replicas.servers[0].process.wait(30)

        def back() -> None:
            time.sleep(3)
            replicas.servers[0] = replicas.start(0)

        return back
    away: dict[str, tuple[Callable[[], None], Callable[[], None], float]] = {
        "postgres": (postgres.stop, postgres.start, 3),
        "redis": (redis.stop, redis.start, outage),
        "rabbitmq": (rabbitmq.stop, rabbitmq.start, outage),
    }
    if services is not None:
        away.update(
            {
                "actions": (services.actions.stop, services.actions.start, outage),
                "llm": (services.llm.stop, services.llm.start, outage),
                "calendar": (services.calendar.stop, services.calendar.start, outage),
                "crm": (services.crm.stop, services.crm.start, outage),
            }
        )
    stop, start, seconds = away[fault]
    stop()

    def come_back() -> None:
        time.sleep(seconds)
        start()

    return come_back


async def load_with_faults(
    url: str,
    users: int,
    script: Script,
    faults: list[str],
    seconds: float,
    replicas: Replicas,
    servers: tuple[Postgres, Redis, RabbitMQ],
    services: Assistant | None,
    outage: float,
) -> Run:
    run = Run([Phase("no fault")])
    stop = asyncio.Event()
    talking = asyncio.create_task(talk(url, users, script, run, stop))
    await asyncio.sleep(seconds)
    for fault in faults:
        run.phases.append(Phase(fault))
        recover = inject(fault, replicas, *servers, services, outage)
        await asyncio.to_thread(recover)
        await asyncio.sleep(seconds)
    run.phases.append(Phase("after the faults"))
    await asyncio.sleep(seconds)
    stop.set()
    await talking
    return run


def stored(postgres: Postgres, db: str) -> list[tuple[str, str, str, str]]:
    """(sender, event, action, message reference) of every event, in the order saved."""
    rows = postgres.psql(
        "SELECT sender_id || chr(9) || type_name || chr(9) || coalesce(action_name, '') || "
        "chr(9) || coalesce(data::json->'metadata'->>'ref', '') FROM events ORDER BY id",
        db,
    )
    # psql trims the output's last tab when the last event has no reference
    found = []
    for line in rows.splitlines():
        sender, kind, action, ref = [*line.split("\t", 3), "", ""][:4]
        found.append((sender, kind, action, ref))
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
    """The user messages RabbitMQ's queue received, by (sender, reference)."""
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
            got[(event["sender_id"], (event.get("metadata") or {}).get("ref") or "")] += 1
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
    users = Counter((sender, ref) for sender, kind, _, ref in events if kind == "user")
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


@dataclass
class Kept:
    """What the assistant told customers it did, against what the calendar and CRM hold."""

    booked: int = 0
    queued: int = 0
    #: queued bookings whose time was taken meanwhile, handed to the team by e-mail
    handed: int = 0
    not_in_calendar: int = 0
    twice: int = 0
    leads: int = 0
    not_in_crm: int = 0
    #: knowledge-base answers the LLM was asked to phrase
    llm_requests: int = 0

    def failed(self) -> bool:
        return bool(self.not_in_calendar or self.twice or self.not_in_crm)


def told(run: Run, phrase: str) -> set[str]:
    """The senders who were told `phrase`."""
    return {sender for sender, texts in run.told.items() if any(phrase in t for t in texts)}


def appointments(services: Assistant) -> Counter[str]:
    """How many appointments the calendar holds for each customer's address."""
    from actions.integrations.caldav_calendar import CalDAVCalendar

    calendar = CalDAVCalendar(
        services.calendar.url, services.calendar.username, services.calendar.password
    )
    start = dt.datetime.fromisoformat(NOW)
    found: Counter[str] = Counter()
    for _, component in calendar._events(start, start + dt.timedelta(days=60)):
        match = re.search(r"e-mail: (\S+)", str(component.get("description", "")), re.I)
        if match:
            found[match.group(1).lower()] += 1
    return found


def team_mail(services: Assistant) -> str:
    """Every e-mail the assistant wrote to files (business.yml's `email: type: file`)."""
    from email import message_from_bytes
    from email.policy import default

    texts = []
    for path in (services.project / "mail").glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=default)
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        texts.append(body.get_content() if body is not None else "")
    return "\n".join(texts)


def check_kept(run: Run, services: Assistant, wait: float = 60) -> Kept:
    """Once the retry job had its chance (up to `wait` s for what waited to be done)."""
    booked, queued = told(run, BOOKED), told(run, QUEUED)
    leads = told(run, LEAD_TAKEN)
    deadline = time.monotonic() + wait
    while True:
        held = appointments(services)
        contacts = {str(c.get("email", "")).lower() for c in services.crm_fake.contacts.values()}
        # A time taken while the calendar was away goes to the team by e-mail instead.
        handed = {s for s in queued if f"<{s}@example.com> asked for" in team_mail(services)}
        missing = [s for s in booked | (queued - handed) if held[f"{s}@example.com"] == 0]
        not_synced = [s for s in leads if f"{s}@example.com" not in contacts]
        if (not missing and not not_synced) or time.monotonic() > deadline:
            break
        time.sleep(2)
    if os.environ.get("PARLEZ_FAULTS_LOGS"):  # what each customer was told, and what is held
        logs = _mkdir(Path(os.environ["PARLEZ_FAULTS_LOGS"]))
        (logs / "told.json").write_text(json.dumps(run.told, indent=1, ensure_ascii=False))
        (logs / "held.json").write_text(json.dumps({"calendar": held, "crm": sorted(contacts)}))
    return Kept(
        booked=len(booked),
        queued=len(queued),
        handed=len(handed),
        not_in_calendar=len(missing),
        twice=sum(count - 1 for count in held.values() if count > 1),
        leads=len(leads),
        not_in_crm=len(not_synced),
        llm_requests=len(services.llm_fake.requests),
    )


def bench(
    replicas: int,
    users: int,
    faults: list[str],
    seconds: float,
    models: Path | None,
    outage: float = 10.0,
) -> tuple[Run, Verdict, Kept | None]:
    with tempfile.TemporaryDirectory(prefix="parlez-faults-") as name, ExitStack() as stack:
        folder = Path(name)
        postgres = stack.enter_context(contextmanager(start_postgres)(folder / "pg"))
        redis = stack.enter_context(contextmanager(start_redis)(_mkdir(folder / "redis")))
        rabbitmq = stack.enter_context(contextmanager(start_rabbitmq)(_mkdir(folder / "mq")))
        db = f"f{uuid.uuid4().hex[:10]}"
        postgres.psql(f"CREATE DATABASE {db}")
        common = textwrap.dedent(replica_endpoints(postgres, db, redis, rabbitmq, QUEUE))
        services: Assistant | None = None
        script: Script
        if models is None:
            project = e2e_project(_mkdir(folder / "project"), common)
            args: tuple[str, ...] = ()
            script = CityScript()
        else:
            os.environ["PARLEZ_NOW"] = NOW  # the replicas', the action server's and the jobs'
            services = stack.enter_context(assistant(folder, models))
            project = services.project
            write(project / "endpoints.yml", assistant_endpoints(services, common))
            os.environ["PARLEZ_ENDPOINTS"] = str(project / "endpoints.yml")  # for the actions
            services.actions.start()
            stack.callback(lambda: report_log("action server", services.actions.output))
            stack.callback(services.actions.stop)
            args = ("--endpoints", str(project / "endpoints.yml"), "-m", str(models))
            script = AssistantScript(users)
        servers = stack.enter_context(Replicas(project, replicas, *args))
        port = stack.enter_context(nginx(_mkdir(folder / "nginx"), servers.ports))
        for replica in servers.ports:  # each loads what it loads on its first message
            httpx.post(
                f"http://127.0.0.1:{replica}/webhooks/rest/webhook",
                json={"sender": f"warm-up-{replica}", "message": script.messages(0, 0)[0]},
                timeout=300,
            )
        what = "the small assistant" if services is None else "the repository's assistant"
        print(f"{what}: {replicas} replicas behind nginx, {users} users", flush=True)
        run = asyncio.run(
            load_with_faults(
                f"http://127.0.0.1:{port}",
                users,
                script,
                faults,
                seconds,
                servers,
                (postgres, redis, rabbitmq),
                services,
                outage,
            )
        )
        time.sleep(2)  # the last events reach the broker
        verdict = judge(run, stored(postgres, db), broadcast(rabbitmq))
        kept = check_kept(run, services) if services is not None else None
        if os.environ.get("PARLEZ_FAULTS_LOGS") and services is not None:
            (Path(os.environ["PARLEZ_FAULTS_LOGS"]) / "jobs.txt").write_text(
                postgres.psql(
                    "SELECT task_name, status, count(*) FROM procrastinate_jobs GROUP BY 1, 2",
                    db,
                )
                + postgres.psql("SELECT kind, count(*) FROM assistant_outbox GROUP BY 1", db)
            )
        return run, verdict, kept


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def latest_models(folder: Path) -> Path:
    if not list(folder.glob("*.tar.gz")):
        raise SystemExit(f"no model in {folder}: train the assistant first (parlez train)")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--conversations", type=int, default=50, help="users talking at once")
    parser.add_argument("--phase", type=float, default=15.0, help="seconds of load per phase")
    parser.add_argument("--faults", nargs="*", choices=FAULTS, default=None)
    parser.add_argument("--small", action="store_true", help="the small assistant")
    parser.add_argument(
        "--models", type=Path, default=REPO / "models", help="the assistant's model folder"
    )
    parser.add_argument("--smoke", action="store_true", help="a short run")
    args = parser.parse_args(argv)
    outage = 10.0
    if args.smoke:
        args.conversations, args.phase, outage = 10, 4.0, 4.0
    faults = args.faults or list(INFRASTRUCTURE if args.small else FAULTS)
    if args.small and set(faults) & set(SERVICES):
        parser.error(f"the small assistant calls none of: {', '.join(SERVICES)}")
    models = None if args.small else latest_models(args.models.resolve())
    run, verdict, kept = bench(
        args.replicas, args.conversations, faults, args.phase, models, outage
    )
    print("| phase | requests | errors | error rate | fallback answers | errors seen |")
    print("|---|---:|---:|---:|---:|---|")
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
    if kept is not None:
        print()
        print(
            "| booked | queued | to the team | not in the calendar | twice | leads "
            "| not in the CRM | LLM requests |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {kept.booked} | {kept.queued} | {kept.handed} | {kept.not_in_calendar} | "
            f"{kept.twice} | "
            f"{kept.leads} | {kept.not_in_crm} | {kept.llm_requests} |"
        )
    return 1 if verdict.failed() or (kept is not None and kept.failed()) else 0


if __name__ == "__main__":
    sys.exit(main())

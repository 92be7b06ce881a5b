"""`parlez run` as a process: trains when there is no model, talks REST and socket.io,
finishes messages on SIGTERM, and loses no answered message when a process is killed."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.conftest import write
from tests.server.process import parlez_run, replica_endpoints
from tests.server.shutdown import send_through_sigterm
from tests.services import Postgres, Redis
from tests.small_assistant import CONFIG, DOMAIN, NLU, RULES

SLOW_ACTION = """
import time

from rasa_sdk import Action


class ActionSlowGoodbye(Action):
    def name(self) -> str:
        return "action_slow_goodbye"

    def run(self, dispatcher, tracker, domain):
        open("slow-action-started", "w").close()  # tests wait for this, not for a clock
        time.sleep(1.5)  # a slow back-end call
        dispatcher.utter_message(text="Bye, slowly")
        return []
"""


def e2e_project(root: Path, endpoints: str) -> Path:
    write(root / "domain.yml", DOMAIN + "actions:\n  - action_slow_goodbye\n")
    write(root / "config.yml", CONFIG)
    write(root / "data" / "nlu.yml", NLU)
    write(
        root / "data" / "rules.yml",
        RULES.replace("action: utter_goodbye", "action: action_slow_goodbye"),
    )
    write(root / "actions" / "__init__.py", "")
    write(root / "actions" / "actions.py", SLOW_ACTION)
    write(
        root / "credentials.yml",
        """
        rest:
        socketio:
          user_message_evt: user_uttered
          bot_message_evt: bot_uttered
          session_persistence: true
        """,
    )
    write(root / "endpoints.yml", endpoints)
    return root


SQLITE_ENDPOINTS = """
action_endpoint:
  actions_module: actions
tracker_store:
  type: SQL
  dialect: sqlite
  db: conversations.db
"""


#: a job of the project's own (endpoints.yml `jobs:`) that notes each run
UPKEEP_JOB = """
jobs:
  upkeep:
    run: actions.upkeep.note_a_run
    every: 1
"""
UPKEEP = """
import time
from pathlib import Path

def note_a_run():
    with Path("upkeep-runs.txt").open("a") as runs:
        runs.write(f"{time.time()}\\n")
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project = e2e_project(tmp_path_factory.mktemp("e2e"), SQLITE_ENDPOINTS + UPKEEP_JOB)
    write(project / "actions" / "upkeep.py", UPKEEP)
    with parlez_run(project, "--enable-api") as server:
        yield project, server


def stored_events(project: Path, sender: str) -> list[dict[str, Any]]:
    with sqlite3.connect(project / "conversations.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_run_trains_first_when_there_is_no_model(served: Any) -> None:
    project, server = served
    assert "training one first" in server.log
    assert list((project / "models").glob("*.tar.gz"))


def test_rest_conversation_over_a_real_socket(served: Any) -> None:
    project, server = served
    reply = httpx.post(
        f"{server.url}/webhooks/rest/webhook", json={"sender": "r1", "message": "hello"}
    )
    assert reply.status_code == 200
    assert reply.json()[0]["text"] == "Hello! Where are you?"
    assert [e["event"] for e in stored_events(project, "r1")].count("user") == 1


async def socket_client(
    url: str,
) -> tuple[socketio.AsyncClient, asyncio.Queue[dict[str, Any]], asyncio.Future[str]]:
    """A connected socket.io client, the bot's messages it receives, its session id."""
    client = socketio.AsyncClient()
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", received.put)
    client.on("session_confirm", lambda sid: confirmed.set_result(sid))
    await client.connect(url, transports=["websocket"])
    return client, received, confirmed


async def socket_conversation(
    url: str, session_id: str | None, texts: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    client, received, confirmed = await socket_client(url)
    await client.emit("session_request", {"session_id": session_id})
    session = await asyncio.wait_for(confirmed, 10)
    answers = []
    for text in texts:
        await client.emit("user_uttered", {"message": text, "session_id": session})
        answers.append(await asyncio.wait_for(received.get(), 30))
    await client.disconnect()
    return session, answers


def test_socketio_speaks_rasas_events_and_keeps_the_session(served: Any) -> None:
    _, server = served
    session, answers = asyncio.run(socket_conversation(server.url, None, ["hello"]))
    assert answers[0]["text"] == "Hello! Where are you?"
    assert answers[0]["quick_replies"] == [
        {"content_type": "text", "title": "Paris", "payload": '/inform{"city": "Paris"}'}
    ]
    # A reload: a new socket with the same session id continues the same conversation.
    again, answers = asyncio.run(
        socket_conversation(server.url, session, ['/inform{"city": "Paris"}'])
    )
    assert again == session
    assert answers[0]["text"] == "You are in Paris."
    tracker = httpx.get(f"{server.url}/conversations/{session}/tracker").json()
    assert tracker["slots"]["city"] == "Paris"
    assert tracker["latest_input_channel"] == "socketio"


async def socket_without_session(url: str) -> tuple[str, list[dict[str, Any]]]:
    """A session asked for without a payload, then a message sent without its id."""
    client, received, confirmed = await socket_client(url)
    await client.emit("session_request")
    session = await asyncio.wait_for(confirmed, 10)
    await client.emit("user_uttered", {"message": "hello"})  # no session_id: ignored
    await client.emit("user_uttered", {"message": "hello", "session_id": session})
    answers = [await asyncio.wait_for(received.get(), 30)]
    await client.disconnect()
    return session, answers


def test_socketio_as_rasa_answers_a_bare_session_request_and_ignores_a_message_without_one(
    served: Any,
) -> None:
    _, server = served
    session, answers = asyncio.run(socket_without_session(server.url))
    assert session and answers[0]["text"] == "Hello! Where are you?"
    tracker = httpx.get(f"{server.url}/conversations/{session}/tracker").json()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["hello"]
    assert "ignored a socket.io message without 'session_id'" in server.log
    # Rasa's health route of the channel
    health = httpx.get(f"{server.url}/webhooks/socketio/")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def wait_for(condition: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true")
        time.sleep(0.02)


def say_goodbye_slowly(
    server: Any, project: Path, sender: str
) -> tuple[threading.Thread, list[httpx.Response]]:
    """Send "goodbye" from another thread; return once the slow action is running."""
    replies: list[httpx.Response] = []
    sending = threading.Thread(
        target=lambda: replies.append(
            httpx.post(
                f"{server.url}/webhooks/rest/webhook",
                json={"sender": sender, "message": "goodbye"},
                timeout=120,
            )
        )
    )
    sending.start()
    wait_for(lambda: (project / "slow-action-started").exists())
    return sending, replies


def test_the_projects_own_job_runs_every_period_in_the_server(served: Any) -> None:
    project, _ = served
    runs = project / "upkeep-runs.txt"
    wait_for(lambda: runs.exists() and len(runs.read_text().split()) >= 3)


def test_a_job_naming_a_missing_function_stops_the_start_before_training(
    tmp_path: Path,
) -> None:
    project = e2e_project(tmp_path, SQLITE_ENDPOINTS + UPKEEP_JOB)
    write(project / "actions" / "upkeep.py", "def something_else(): pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "parlez", "run", "-p", "0"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "error P334 endpoints.yml:10:10" in out and "no function 'note_a_run'" in out, out
    assert "training" not in out


def test_sigterm_finishes_the_message_in_flight(tmp_path: Path) -> None:
    project = e2e_project(tmp_path, SQLITE_ENDPOINTS)
    with parlez_run(project) as server:
        sending, replies = say_goodbye_slowly(server, project, "t1")
        assert server.terminate() == 0
        sending.join()
    assert replies and replies[0].status_code == 200
    assert replies[0].json()[0]["text"] == "Bye, slowly"
    events = stored_events(project, "t1")
    assert [e.get("name") for e in events if e["event"] == "action"][-2:] == [
        "action_slow_goodbye",
        "action_listen",
    ]


GATED_ACTION = """
import os
import time

from rasa_sdk import Action


class ActionSlowGoodbye(Action):
    def name(self) -> str:
        return "action_slow_goodbye"

    def run(self, dispatcher, tracker, domain):  # a plain def that blocks, as many do
        open("slow-action-started", "w").close()
        for _ in range(1200):
            if os.path.exists("release"):
                break
            time.sleep(0.05)
        dispatcher.utter_message(text="Bye, slowly")
        return []
"""


def test_a_blocking_in_process_action_does_not_stop_other_conversations(tmp_path: Path) -> None:
    project = e2e_project(tmp_path, SQLITE_ENDPOINTS)
    write(project / "actions" / "actions.py", GATED_ACTION)
    with parlez_run(project) as server:
        sending, slow = say_goodbye_slowly(server, project, "slow")
        # The action is blocked until `release` exists: another customer is answered now.
        quick = httpx.post(
            f"{server.url}/webhooks/rest/webhook",
            json={"sender": "quick", "message": "hello"},
            timeout=60,
        )
        assert quick.status_code == 200 and quick.json()[0]["text"] == "Hello! Where are you?"
        assert not slow
        (project / "release").touch()
        sending.join()
    assert slow[0].json()[0]["text"] == "Bye, slowly"


def test_sigterm_takes_no_new_message_and_answers_and_stores_every_one_it_took(
    tmp_path: Path,
) -> None:
    """Eight clients on keep-alive connections keep sending through the signal: every
    message answered 200 is stored, no message that got no answer (a 503, a refused or
    closed connection) is, and none sent after the server said it stopped is taken."""
    outcome = send_through_sigterm(e2e_project(tmp_path, SQLITE_ENDPOINTS))
    assert outcome.exit_code == 0 and outcome.said_stopping
    assert len(outcome.answered) >= 40 and outcome.refused, outcome
    assert outcome.errors == []
    assert outcome.answered_not_stored == []
    assert outcome.stored_not_answered == []
    assert outcome.taken_after_stop == []


def test_killing_one_of_two_processes_loses_no_answered_message(
    tmp_path: Path, postgres: Postgres, redis_server: Redis
) -> None:
    db = f"t{uuid.uuid4().hex[:10]}"
    postgres.psql(f"CREATE DATABASE {db}")
    endpoints = replica_endpoints(postgres, db, redis_server)
    project = e2e_project(tmp_path, endpoints)
    answered: list[tuple[str, str]] = []
    with parlez_run(project) as first, parlez_run(project) as second:
        servers = [first, second]
        stop = threading.Event()

        def user(n: int) -> None:
            with httpx.Client(timeout=30) as client:
                for turn in range(1000):
                    if stop.is_set():
                        return
                    text = f"I am in City{n}x{turn}"
                    server = servers[(n + turn) % 2]
                    try:
                        reply = client.post(
                            f"{server.url}/webhooks/rest/webhook",
                            json={"sender": f"user{n}", "message": text},
                        )
                    except httpx.HTTPError:
                        continue  # that process is gone: no answer, nothing promised
                    if reply.status_code == 200:
                        answered.append((f"user{n}", text))

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(user, n) for n in range(8)]
            time.sleep(4)
            first.process.kill()  # kill -9, mid-load
            time.sleep(2)
            stop.set()
            for future in futures:
                future.result()
    assert len(answered) > 20
    found = postgres.psql(
        "SELECT sender_id || '|' || (data::json->>'text') FROM events WHERE type_name = 'user'",
        db,
    ).splitlines()
    stored = set(found)
    assert all(f"{sender}|{text}" in stored for sender, text in answered)
    assert len(found) == len(stored), "a message was stored twice"


def test_socketio_with_a_jwt_key_refuses_connections_without_a_valid_token(
    tmp_path: Path,
) -> None:
    import jwt

    project = e2e_project(tmp_path, SQLITE_ENDPOINTS)
    key = "socket-secret-long-enough-for-hs256-signatures"
    write(project / "credentials.yml", f"socketio:\n  jwt_key: {key}\n")
    log_file = tmp_path / "server.log"
    with parlez_run(project, "--log-file", str(log_file), "--log-format", "json") as server:

        async def connect(auth: dict[str, str] | None) -> bool:
            client = socketio.AsyncClient()
            try:
                await client.connect(server.url, transports=["websocket"], auth=auth)
            except socketio.exceptions.ConnectionError:
                return False
            await client.disconnect()
            return True

        assert not asyncio.run(connect(None))
        assert not asyncio.run(connect({"token": jwt.encode({"u": 1}, "wrong-key-" * 5)}))
        assert asyncio.run(connect({"token": jwt.encode({"u": 1}, key)}))
        # Only the channels in credentials.yml are served: no REST webhook here.
        assert httpx.post(f"{server.url}/webhooks/rest/webhook", json={}).status_code == 404
    records = [json.loads(line) for line in log_file.read_text().splitlines() if line]
    assert any("refused a socket.io connection" in r["message"] for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)

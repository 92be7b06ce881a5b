"""Clients that keep sending through a SIGTERM, and what became of each of their messages:
the scenario both the shutdown test and `bench/shutdown.py` run."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.server.process import parlez_run

STOPPING = "stopping: no new message"


@dataclass
class Shutdown:
    """Each message sent, by what its client saw; and what the store holds."""

    answered: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # a 503, or the connection refused
    cut_off: list[str] = field(default_factory=list)  # the connection closed with no answer
    errors: list[str] = field(default_factory=list)  # any other answer
    cut_off_by: list[str] = field(default_factory=list)  # what the client saw of each cut
    taken_after_stop: list[str] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)
    exit_code: int | None = None
    seconds_to_exit: float = 0.0
    said_stopping: bool = False

    @property
    def answered_not_stored(self) -> list[str]:
        return [t for t in self.answered if t not in self.stored]

    @property
    def stored_not_answered(self) -> list[str]:
        return [t for t in self.refused + self.cut_off if t in self.stored]

    def row(self) -> str:
        return (
            f"| {len(self.answered)} | {len(self.refused)} | {len(self.cut_off)} | "
            f"{len(self.errors)} | {len(self.taken_after_stop)} | "
            f"{len(self.answered_not_stored)} | {len(self.stored_not_answered)} | "
            f"{self.seconds_to_exit:.2f} | {self.exit_code} |"
        )


def stored_texts(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT data FROM events WHERE type_name = 'user'").fetchall()
    return {json.loads(row[0])["text"] for row in rows}


def send_through_sigterm(
    project: Path, clients: int = 8, before: int = 40, slow_every: int = 5
) -> Shutdown:
    """Serve `project` (conversations in its conversations.db), let `clients` keep-alive
    clients send until `before` messages are answered, send SIGTERM, and let them go on
    sending until each is refused. Every `slow_every`-th message is a "goodbye", which the
    project answers with a slow action, so that messages are being handled at the signal."""
    outcome = Shutdown()
    lock = threading.Lock()
    signalled = threading.Event()
    with parlez_run(project) as server:

        def stopping() -> bool:  # the server has said that it takes no new message
            return any(STOPPING in line for line in list(server.output))

        def client(n: int) -> None:
            with httpx.Client(timeout=60) as http:
                for turn in range(100_000):
                    slow = slow_every and turn % slow_every == slow_every - 1
                    text = f"goodbye {n}x{turn}" if slow else f"I am in City{n}x{turn}"
                    sent_after_stop = stopping()
                    try:
                        reply = http.post(
                            f"{server.url}/webhooks/rest/webhook",
                            json={"sender": f"user{n}", "message": text},
                        )
                    except httpx.ConnectError:
                        with lock:
                            outcome.refused.append(text)
                        return
                    except httpx.HTTPError as error:
                        with lock:
                            outcome.cut_off.append(text)
                            outcome.cut_off_by.append(f"{type(error).__name__}: {error}")
                        continue
                    with lock:
                        if reply.status_code == 200:
                            outcome.answered.append(text)
                            if sent_after_stop:
                                outcome.taken_after_stop.append(text)
                            continue
                        if reply.status_code == 503:
                            outcome.refused.append(text)
                        else:
                            outcome.errors.append(f"{reply.status_code}: {text}")
                    if signalled.is_set() or reply.status_code != 503:
                        return

        with ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(client, n) for n in range(clients)]
            deadline = time.monotonic() + 300
            while len(outcome.answered) < before and time.monotonic() < deadline:
                time.sleep(0.02)
            signalled.set()
            started = time.monotonic()
            outcome.exit_code = server.terminate()
            outcome.seconds_to_exit = time.monotonic() - started
            for future in futures:
                future.result()
        outcome.said_stopping = stopping()
    outcome.stored = stored_texts(project / "conversations.db")
    return outcome

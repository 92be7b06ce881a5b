"""`parlez run` as a real process, as users start it, for tests that need a real socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services import Postgres, RabbitMQ, Redis, free_port

READY = "parlez is serving"


class ServerProcess:
    def __init__(self, project: Path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parlez", "run", "-p", str(self.port), *args],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if READY in line:
                self._ready.set()

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("parlez run did not start:\n" + "".join(self.output))

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    @property
    def log(self) -> str:
        return "".join(self.output)


@contextmanager
def parlez_run(project: Path, *args: str, port: int | None = None) -> Iterator[ServerProcess]:
    server = ServerProcess(project, *args, port=port)
    try:
        server.wait_ready()
        yield server
    finally:
        if server.process.poll() is None:
            server.kill()


def assistant_endpoints(folder: Path, extra: str = "") -> Path:
    """An endpoints.yml in `folder` for serving the repository's assistant in a test: its
    actions in-process, its conversations in SQLite in `folder`, and `extra` sections."""
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  actions_module: actions\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {folder / 'c.db'}\n" + extra,
        encoding="utf-8",
    )
    return endpoints


def add_console_user(
    project: Path, endpoints: Path, address: str, role: str, password: str
) -> None:
    """`parlez console add-user`, as a business runs it from a shell (the password from the
    environment, never the command line)."""
    add = ["console", "add-user", address, "--role", role, "--project", str(project)]
    subprocess.run(
        [sys.executable, "-m", "parlez", *add, "--endpoints", str(endpoints)],
        env={**os.environ, "PARLEZ_CONSOLE_PASSWORD": password},
        check=True,
        capture_output=True,
    )


def replica_endpoints(
    postgres: Postgres, db: str, redis: Redis, rabbitmq: RabbitMQ | None = None, queue: str = ""
) -> str:
    """endpoints.yml for server processes that share one assistant: its actions in-process,
    conversations in PostgreSQL's `db`, locks (and what else they share) in Redis, and
    events to RabbitMQ's `queue` when a broker is given."""
    text = f"""
    action_endpoint:
      actions_module: actions
    tracker_store:
      type: SQL
      dialect: postgresql
      url: 127.0.0.1
      port: {postgres.port}
      username: {postgres.user}
      db: {db}
    lock_store:
      type: redis
      url: 127.0.0.1
      port: {redis.port}
      key_prefix: "{db}:"
    """
    if rabbitmq is not None:
        text += f"""
    event_broker:
      type: pika
      url: 127.0.0.1
      port: {rabbitmq.port}
      queues:
        - {queue}
    """
    return text

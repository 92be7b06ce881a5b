"""Real database and broker servers for the tests, started in a temporary folder.

PostgreSQL, Redis and RabbitMQ run from their Debian packages (`.ci/run` installs them). On a
machine without them the tests that need them are skipped, unless `PARLEZ_REQUIRE_SERVICES=1`
(set by CI), where a missing server fails the run instead of hiding a gap.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

POSTGRES_BIN = Path("/usr/lib/postgresql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout:.0f} s")


def missing(what: str) -> None:
    if os.environ.get("PARLEZ_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is not installed here, and this run requires it")
    pytest.skip(f"{what} is not installed")


def _as_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class Postgres:
    port: int
    user: str
    bin_dir: Path
    data: Path

    def stop(self) -> None:
        """Take the server away (as a crash or a restart would)."""
        subprocess.run(
            _as_user(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
            ),
            capture_output=True,
        )

    def start(self) -> None:
        subprocess.run(
            _as_user(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.data / "log"),
                    "-w",
                    "-o",
                    f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db: str = "postgres") -> str:
        psql = next(POSTGRES_BIN.glob("*/bin/psql"), None) or Path(shutil.which("psql") or "psql")
        return subprocess.run(
            [
                str(psql),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                db,
                "-tAc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()


def start_postgres(folder: Path) -> Iterator[Postgres]:
    versions = sorted(POSTGRES_BIN.glob("*/bin/pg_ctl"))
    if not versions:
        missing("PostgreSQL")
    bin_dir = versions[-1].parent
    if os.geteuid() == 0:
        # pytest's folders are private to root; the postgres user needs a folder of its own.
        folder = Path(tempfile.mkdtemp(prefix="parlez-pg-"))
        shutil.chown(folder, "postgres")
    data = folder / "pgdata"
    data.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    subprocess.run(
        _as_user([str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    server = Postgres(free_port(), user, bin_dir, data)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if os.geteuid() == 0:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Redis:
    port: int
    process: subprocess.Popen[bytes]
    binary: str = "redis-server"
    folder: Path = Path(".")

    def stop(self) -> None:
        """Take the server away (its keys with it: nothing is saved to disk)."""
        self.process.terminate()
        self.process.wait(10)

    def start(self) -> None:
        """The server back on its port, empty."""
        self.process = _redis_process(self.binary, self.port, self.folder)
        wait_for_port(self.port)


def _redis_process(binary: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_redis(folder: Path) -> Iterator[Redis]:
    binary = shutil.which("redis-server")
    if binary is None:
        missing("Redis")
    assert binary is not None
    port = free_port()
    server = Redis(port, _redis_process(binary, port, folder), binary, folder)
    try:
        wait_for_port(port)
        yield server
    finally:
        server.process.terminate()
        server.process.wait(10)


@dataclass
class RabbitMQ:
    port: int
    node: str = ""
    env: dict[str, str] | None = None

    def _ctl(self, *command: str) -> None:
        subprocess.run(
            ["rabbitmqctl", "-n", self.node, *command],
            env=self.env,
            capture_output=True,
            timeout=120,
            check=True,
        )

    def stop(self) -> None:
        """Stop the broker (its node stays up): every connection to it is dropped."""
        self._ctl("stop_app")

    def start(self) -> None:
        self._ctl("start_app")
        wait_for_port(self.port)


def start_rabbitmq(folder: Path) -> Iterator[RabbitMQ]:
    binary = shutil.which("rabbitmq-server") or (
        "/usr/sbin/rabbitmq-server" if Path("/usr/sbin/rabbitmq-server").exists() else None
    )
    if binary is None:
        missing("RabbitMQ")
    if os.geteuid() == 0:
        # pytest's folders are private to root; RabbitMQ runs as its own user.
        folder = Path(tempfile.mkdtemp(prefix="parlez-rabbitmq-"))
    port = free_port()
    name = f"parlez{port}@localhost"
    env = {
        **os.environ,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_NODENAME": name,
        "RABBITMQ_DIST_PORT": str(free_port()),
        "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
        "RABBITMQ_LOGS": str(folder / "rabbit.log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_SERVER_START_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }
    (folder / "enabled_plugins").write_text("[].\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "rabbitmq")
        for sub in ("mnesia", "log"):
            (folder / sub).mkdir(exist_ok=True)
            shutil.chown(folder / sub, "rabbitmq")
        shutil.chown(folder / "enabled_plugins", "rabbitmq")
    process = subprocess.Popen(
        [binary],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=120)
        yield RabbitMQ(port, name, env)
    finally:
        subprocess.run(
            ["rabbitmqctl", "-n", name, "stop"], env=env, capture_output=True, timeout=60
        )
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


@dataclass
class Radicale:
    port: int
    username: str = "studio"
    password: str = "radicale-test-password"
    folder: Path = Path(".")
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        """Serve the calendars kept in `folder` (again, after `stop`) on `port`."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                f"--storage-filesystem-folder={self.folder / 'collections'}",
                f"--server-hosts=127.0.0.1:{self.port}",
                "--auth-type=htpasswd",
                f"--auth-htpasswd-filename={self.folder / 'users'}",
                "--auth-htpasswd-encryption=plain",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Take the server away; what it keeps stays on disk."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def start_radicale(folder: Path) -> Iterator[Radicale]:
    """A real CalDAV server (Radicale, from PyPI) with a user and a plain-text password."""
    try:
        import radicale  # noqa: F401
    except ImportError:
        missing("Radicale")
    server = Radicale(free_port(), folder=folder)
    (folder / "users").write_text(f"{server.username}:{server.password}\n")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class SMTPServer:
    """A real SMTP server (aiosmtpd) that keeps what it receives; it can be stopped and
    started again on the same port, as a mail server that goes away and comes back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Any] = []
        self._controller: Any = None

    def start(self) -> None:
        from email import message_from_bytes
        from email.policy import default

        from aiosmtpd.controller import Controller

        received = self.received

        class Keep:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                received.append(message_from_bytes(envelope.content, policy=default))
                return "250 OK"

        self._controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def start_smtp() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()

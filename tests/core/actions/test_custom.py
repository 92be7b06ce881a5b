"""Custom actions in-process and on a real action server; failures never end a conversation."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parlez.core.actions.custom import ACTION_FAILED_TEXT, InProcessExecutor, RemoteExecutor
from parlez.endpoints import EndpointConfig
from tests.core.helpers import agent, domain, events, say

DOMAIN = """
version: "3.1"
intents: [greet, order, crash, garbage, slow]
slots:
  orders:
    type: float
    initial_value: 0
    influence_conversation: false
    mappings:
    - type: custom
actions: [action_{tag}_order, action_{tag}_crash, action_{tag}_garbage, action_{tag}_slow]
responses:
  utter_greet: [{text: "Hello {name}!"}]
  utter_confirm: [{text: "Order {number} is on its way."}]
  utter_saved: [{text: "Saved, thanks."}]
"""

RULES = """
rules:
- rule: order
  steps:
  - intent: order
  - action: action_{tag}_order
- rule: crash
  steps:
  - intent: crash
  - action: action_{tag}_crash
  - action: utter_saved
- rule: garbage
  steps:
  - intent: garbage
  - action: action_{tag}_garbage
- rule: slow
  steps:
  - intent: slow
  - action: action_{tag}_slow
"""

ACTIONS = """
import asyncio
import os
from pathlib import Path
from rasa_sdk import Action
from rasa_sdk.events import SlotSet

HERE = Path(__file__).parent

def warm_up():
    if (HERE / "broken").exists():
        raise RuntimeError("the index is missing")
    with open(HERE / "warmed", "a") as marker:
        marker.write(f"{os.getpid()}\\n")

class Order(Action):
    def name(self):
        return "action_{tag}_order"

    async def run(self, dispatcher, tracker, domain):
        count = (tracker.get_slot("orders") or 0) + 1
        dispatcher.utter_message(response="utter_confirm", number=int(count))
        dispatcher.utter_message(text="Anything else?", buttons=[{"title": "No", "payload": "/greet"}])
        return [SlotSet("orders", count)]

class Crash(Action):
    def name(self):
        return "action_{tag}_crash"

    def run(self, dispatcher, tracker, domain):
        raise RuntimeError("the database is on fire")

class Garbage(Action):
    def name(self):
        return "action_{tag}_garbage"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="Half done.")
        return [{"event": "no_such_event"}, SlotSet("orders", 99)]

class Slow(Action):
    def name(self):
        return "action_{tag}_slow"

    async def run(self, dispatcher, tracker, domain):
        await asyncio.sleep(60)  # far past any timeout the tests give
        return []
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:8]
    name = f"custom_actions_{tag}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text(
        textwrap.dedent(ACTIONS.replace("{tag}", tag)), encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, tag
    sys.modules.pop(name, None)


def _bot(tag: str, executor: object) -> object:
    return agent(
        domain(DOMAIN.replace("{tag}", tag)), rules=RULES.replace("{tag}", tag), custom=executor
    )  # type: ignore[arg-type]


def test_in_process_sdk_actions_answer_and_set_slots(package: tuple[str, str]) -> None:
    name, tag = package
    bot = _bot(tag, InProcessExecutor(name))
    assert say(bot, "/order") == ["Order 1 is on its way.", "Anything else?"]  # type: ignore[arg-type]
    assert say(bot, "/order") == ["Order 2 is on its way.", "Anything else?"]  # type: ignore[arg-type]
    slots = [e["value"] for e in events(bot) if e["event"] == "slot" and e["name"] == "orders"]  # type: ignore[arg-type]
    assert slots == [1.0, 2.0]


def test_the_in_process_package_warms_up_once_when_the_agent_does(
    package: tuple[str, str], tmp_path: Path
) -> None:
    name, tag = package
    bot = _bot(tag, InProcessExecutor(name))
    assert not (tmp_path / name / "warmed").exists()  # loading the package does not warm it
    bot.warm_up()  # type: ignore[attr-defined]
    assert (tmp_path / name / "warmed").read_text().split() == [str(os.getpid())]


def test_a_package_whose_warm_up_fails_still_runs_its_actions(
    package: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name, tag = package
    (tmp_path / name / "broken").touch()
    bot = _bot(tag, InProcessExecutor(name))
    bot.warm_up()  # type: ignore[attr-defined]
    assert f"{name}.warm_up() failed" in caplog.text and "the index is missing" in caplog.text
    assert say(bot, "/order") == ["Order 1 is on its way.", "Anything else?"]  # type: ignore[arg-type]


def test_an_action_that_raises_gets_the_fallback_answer_and_keeps_the_events(
    package: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The rule's next step ("Saved, thanks.") counted on the action: after the fallback
    answer the bot listens instead of saying it."""
    name, tag = package
    bot = _bot(tag, InProcessExecutor(name))
    say(bot, "/order")  # type: ignore[arg-type]
    assert say(bot, "/crash") == [ACTION_FAILED_TEXT]  # type: ignore[arg-type]
    assert "the database is on fire" in caplog.text
    logged = events(bot)  # type: ignore[arg-type]
    assert [e["name"] for e in logged if e["event"] == "action"][-2:] == [
        f"action_{tag}_crash",
        "action_listen",
    ]
    assert any(e["event"] == "slot" and e["value"] == 1.0 for e in logged)


def test_malformed_events_are_dropped_and_the_rest_kept(
    package: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    name, tag = package
    bot = _bot(tag, InProcessExecutor(name))
    assert say(bot, "/garbage") == ["Half done."]  # type: ignore[arg-type]
    assert "no_such_event" in caplog.text
    assert any(e["event"] == "slot" and e["value"] == 99 for e in events(bot))  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_action_server(
    name: str, port: int, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`parlez run actions`, waited on until it answers /health."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "parlez",
            "run",
            "actions",
            "--actions",
            name,
            "--port",
            str(port),
            *args,
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 180  # generous: a loaded machine starts Python slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode() if process.stderr else "exited")
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("the action server did not answer /health")


@pytest.fixture
def action_server(package: tuple[str, str], tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`parlez run actions` serving the package on a free port."""
    name, tag = package
    port = _free_port()
    process = _start_action_server(name, port, tmp_path)
    try:
        yield f"http://127.0.0.1:{port}/webhook", tag
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def test_the_action_server_stops_on_sigterm_and_its_host_flag_wins(
    package: tuple[str, str], tmp_path: Path
) -> None:
    name, _ = package
    port = _free_port()
    process = _start_action_server(
        name, port, tmp_path, "--host", "127.0.0.1", env={"SANIC_HOST": "0.0.0.0"}
    )
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        # Bound to 127.0.0.1 alone: 0.0.0.0 would answer on every loopback address too.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=5).close()
        process.send_signal(signal.SIGTERM)  # the process alone, as a supervisor sends it
        assert process.wait(timeout=60) is not None
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # nothing of its process group is left running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_the_action_server_starts_on_a_machine_whose_every_core_is_busy(
    package: tuple[str, str], tmp_path: Path
) -> None:
    """Sanic's worker manager gave up on a busy machine ("Not all workers acknowledged a
    successful startup" after 30 s); one process has no worker to wait for."""
    name, _ = package
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(2 * (os.cpu_count() or 2))
    ]
    try:
        process = _start_action_server(name, _free_port(), tmp_path)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    try:
        assert process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    assert process.stderr is not None
    assert b"acknowledged" not in process.stderr.read()


def test_the_action_server_warms_its_package_up_before_it_answers(
    action_server: tuple[str, str], tmp_path: Path
) -> None:
    [warmed] = list(tmp_path.glob("custom_actions_*/warmed"))
    assert len(warmed.read_text().split()) == 1  # once, in the server's process


def test_a_remote_action_server_speaks_rasas_protocol(action_server: tuple[str, str]) -> None:
    url, tag = action_server
    bot = _bot(tag, RemoteExecutor(EndpointConfig(url=url)))
    assert say(bot, "/order") == ["Order 1 is on its way.", "Anything else?"]  # type: ignore[arg-type]
    assert say(bot, "/crash") == [ACTION_FAILED_TEXT]  # type: ignore[arg-type]


def test_a_slow_action_server_times_out_into_the_fallback(action_server: tuple[str, str]) -> None:
    url, tag = action_server
    # A timeout long enough for a quick action on a loaded machine, short against the slow one.
    bot = _bot(tag, RemoteExecutor(EndpointConfig(url=url, kwargs={"timeout": 5})))
    assert say(bot, "/slow") == [ACTION_FAILED_TEXT]  # type: ignore[arg-type]
    assert say(bot, "/order") == ["Order 1 is on its way.", "Anything else?"]  # type: ignore[arg-type]


def test_an_action_server_that_is_down_gets_the_fallback(caplog: pytest.LogCaptureFixture) -> None:
    tag = uuid.uuid4().hex[:8]
    url = f"http://127.0.0.1:{_free_port()}/webhook"
    bot = _bot(tag, RemoteExecutor(EndpointConfig(url=url)))
    assert say(bot, "/order") == [ACTION_FAILED_TEXT]  # type: ignore[arg-type]
    assert "cannot be reached" in caplog.text
    assert say(bot, "/order") == [ACTION_FAILED_TEXT]  # type: ignore[arg-type]

"""Reminders of a served assistant whose conversations are in SQL: one set before `parlez
run` stops fires after it starts again."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from tests.server.process import parlez_run


def events_of(url: str, sender: str) -> list[dict[str, object]]:
    reply = httpx.get(f"{url}/conversations/{sender}/tracker", params={"include_events": "ALL"})
    reply.raise_for_status()
    events: list[dict[str, object]] = reply.json()["events"]
    return events


def test_a_reminder_set_before_a_restart_is_answered_after_it(
    small_project: Path, small_model: Path, tmp_path: Path
) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'c.db'}\n",
        encoding="utf-8",
    )
    served = ("-m", str(small_model), "--endpoints", str(endpoints), "--enable-api")
    with parlez_run(small_project, *served) as server:
        httpx.post(
            f"{server.url}/webhooks/rest/webhook", json={"sender": "ana", "message": "bye"}
        ).raise_for_status()
        due = (datetime.now() + timedelta(seconds=4)).isoformat()
        reminder = {"event": "reminder", "intent": "greet", "date_time": due, "name": "hi"}
        reply = httpx.post(f"{server.url}/conversations/ana/tracker/events", json=reminder)
        assert reply.status_code == 200, reply.text
        server.terminate()  # stopped before it is due
    with parlez_run(small_project, *served) as server:
        deadline = time.monotonic() + 60
        while not any(e.get("text") == "EXTERNAL: greet" for e in events_of(server.url, "ana")):
            assert time.monotonic() < deadline, "the reminder was not answered"
            time.sleep(0.2)
        said = [e.get("text") for e in events_of(server.url, "ana") if e["event"] == "bot"]
        assert said[-1] == "Hello! Where are you?"

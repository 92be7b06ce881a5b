"""The repository's own assistant, as `make run` serves it: trained, then talked to over
REST and socket.io, its conversations in SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.server.process import parlez_run
from tests.server.test_run import socket_conversation


def test_the_assistant_trains_then_answers_over_rest_and_socketio(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  actions_module: actions\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'c.db'}\n",
        encoding="utf-8",
    )
    # The repository's credentials.yml: REST and socket.io with session persistence.
    with parlez_run(
        REPO, "-m", str(tmp_path / "models"), "--endpoints", str(endpoints), "--enable-api"
    ) as server:
        assert "training one first" in server.log
        reply = httpx.post(
            f"{server.url}/webhooks/rest/webhook",
            json={"sender": "visitor", "message": "what are your opening hours?"},
            timeout=60,
        ).json()
        assert "Monday to Friday" in reply[0]["text"]
        _, answers = asyncio.run(socket_conversation(server.url, None, ["hello"]))
        assert answers[0]["text"].startswith("Hello! I'm the assistant of Maple Street Studio")
        assert [q["title"] for q in answers[0]["quick_replies"]][0] == "Opening hours"
        status = httpx.get(f"{server.url}/status").json()
        assert status["model_file"].startswith(str(tmp_path / "models"))

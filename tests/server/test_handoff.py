"""Handing over to a person, end to end: the customer asks on socket.io, the assistant
pauses and e-mails the business, a person answers through the HTTP API on the customer's
own socket, and `resume` hands back to the assistant."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.conftest import REPO
from tests.server.process import assistant_endpoints, parlez_run


def test_a_person_takes_over_and_hands_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, assistant_models: Path
) -> None:
    business = tmp_path / "business.yml"
    shutil.copy(REPO / "business.yml", business)
    business.write_text(
        business.read_text().replace(
            "  type: file\n", f"  type: file\n  folder: {tmp_path / 'mail'}\n"
        )
    )
    monkeypatch.setenv("PARLEZ_BUSINESS", str(business))
    endpoints = assistant_endpoints(tmp_path)
    with parlez_run(
        REPO, "-m", str(assistant_models), "--endpoints", str(endpoints), "--enable-api"
    ) as server:
        asyncio.run(conversation(server.url, tmp_path))


async def conversation(url: str, folder: Path) -> None:
    client = socketio.AsyncClient()
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.on("bot_uttered", received.put)
    await client.connect(url, transports=["websocket"])
    session = "visitor-42"
    await client.emit("session_request", {"session_id": session})

    async def say(text: str) -> None:
        await client.emit("user_uttered", {"message": text, "session_id": session})

    async def api(body: Any, **params: str) -> dict[str, Any]:
        async with httpx.AsyncClient() as http:
            reply = await http.post(
                f"{url}/conversations/{session}/tracker/events", json=body, params=params
            )
        assert reply.status_code == 200, reply.text
        result: dict[str, Any] = reply.json()
        return result

    await say("can I talk to a human?")
    handoff = await asyncio.wait_for(received.get(), 30)
    assert "pass you to a person" in handoff["text"]
    # The message goes out as soon as it is said; the notice follows from the next action.
    for _ in range(100):
        if list((folder / "mail").glob("*.eml")):
            break
        await asyncio.sleep(0.1)
    (notice,) = (folder / "mail").glob("*.eml")
    content = notice.read_text()
    assert "A customer wants a person" in content and "can I talk to a human?" in content

    await say("hello? is anyone there?")  # paused: stored, not answered by the bot
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(received.get(), 2)

    await api(
        {"event": "bot", "text": "Hi, this is Ana from the studio. How can I help?"},
        execute_side_effects="true",
        output_channel="latest",
    )
    human = await asyncio.wait_for(received.get(), 10)
    assert human["text"] == "Hi, this is Ana from the studio. How can I help?"

    tracker = await api({"event": "resume"})
    assert tracker["paused"] is False
    await say("what are your opening hours?")
    answer = await asyncio.wait_for(received.get(), 30)
    assert "Monday–Friday: 09:00–18:00" in answer["text"]
    await client.disconnect()
    async with httpx.AsyncClient() as http:
        events = (
            await http.get(f"{url}/conversations/{session}/tracker?include_events=ALL")
        ).json()["events"]
    texts = [e.get("text") for e in events if e["event"] in ("user", "bot")]
    assert "hello? is anyone there?" in texts  # nothing the customer said was lost

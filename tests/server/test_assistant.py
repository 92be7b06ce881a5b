"""The repository's own assistant, as `make run` serves it: talked to over
REST and socket.io, its conversations in SQLite, its answers from data/kb/."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest

from parlez.agent import Agent
from parlez.endpoints import Endpoints
from parlez.evaluation.stories import evaluate_stories
from parlez.project import Project
from tests.conftest import REPO
from tests.fakes.llm import fake_llm
from tests.server.process import assistant_endpoints, parlez_run
from tests.server.test_run import socket_conversation


def say(url: str, sender: str, text: str) -> list[dict[str, object]]:
    reply = httpx.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert reply.status_code == 200
    messages: list[dict[str, object]] = reply.json()
    return messages


def test_the_assistant_answers_over_rest_and_socketio(
    tmp_path: Path, assistant_models: Path
) -> None:
    def cite_parking(body: dict[str, object]) -> str:
        """The LLM's answer, citing the parking passage by its number."""
        for line in str(body["system"]).splitlines():
            if line.startswith("[") and line.endswith("] Is there parking nearby?"):
                return f"{line[: line.index(']') + 1]} Park opposite: the first hour is free."
        return "NO_ANSWER"

    with fake_llm(reply=cite_parking) as llm:
        endpoints = assistant_endpoints(
            tmp_path,
            f"llm:\n  type: anthropic\n  api_key: test-key\n  base_url: {llm.anthropic_url}\n",
        )
        # The repository's credentials.yml: REST and socket.io with session persistence.
        with parlez_run(
            REPO,
            "-m",
            str(assistant_models),
            "--endpoints",
            str(endpoints),
            "--enable-api",
        ) as server:
            # An answer from data/kb/, phrased by the LLM, with its source.
            (parking,) = say(server.url, "visitor", "is there parking nearby?")
            assert parking["text"] == "Park opposite: the first hour is free."
            assert parking["custom"]["sources"][0]["id"] == "parking"  # type: ignore[index]
            assert "first hour is free with your receipt" in llm.requests[0]["body"]["system"]
            # The hours are business.yml's, told by an action (the FAQ entry names it), and
            # cited as that entry; a button's payload is no question: the intent says it.
            (hours,) = say(server.url, "visitor", "are you open on saturday?")
            assert "we're open 10:00–16:00" in str(hours["text"])
            assert hours["custom"]["sources"][0]["id"] == "opening-hours"  # type: ignore[index]
            clicked = say(server.url, "clicker", "/ask_hours")
            assert clicked[0]["custom"]["sources"][0]["id"] == "opening-hours"  # type: ignore[index]
            # Nothing in the knowledge base: an honest answer and a person offered.
            (unknown,) = say(server.url, "visitor", "what is the capital of australia?")
            assert str(unknown["text"]).startswith("I'm sorry, I don't know")
            assert "handoff" not in str(unknown) and unknown["buttons"]
            (handoff,) = say(server.url, "visitor", "yes please")
            assert "pass you to a person" in str(handoff["text"])
            _, answers = asyncio.run(socket_conversation(server.url, None, ["hello"]))
            assert answers[0]["text"].startswith("Hello! I'm the assistant of Maple Street")
            assert next(q["title"] for q in answers[0]["quick_replies"]) == "Opening hours"
            status = httpx.get(f"{server.url}/status").json()
            assert status["model_file"].startswith(str(assistant_models))
    # the hours were never the LLM's to phrase, the unknown question never reached it
    assert len(llm.requests) == 1


def test_a_close_call_asks_which_entry_was_meant_and_answers_the_one_clicked(
    tmp_path: Path, assistant_models: Path
) -> None:
    """Over REST, without an LLM: the duration and the price entries fit "how long is a
    haircut appointment?" about as well, so the customer is asked; the button's payload
    names the entry, and that entry is answered as written, with its source."""
    endpoints = assistant_endpoints(tmp_path)
    with parlez_run(
        REPO, "-m", str(assistant_models), "--endpoints", str(endpoints), "--enable-api"
    ) as server:
        (asked,) = say(server.url, "unsure", "how long is a haircut appointment?")
        assert str(asked["text"]).startswith("I want to be sure I answer the right question")
        buttons = asked["buttons"]
        assert isinstance(buttons, list)
        *entries, person = buttons
        payloads = {
            json.loads(str(b["payload"]).removeprefix("/ask_question"))["kb_entry"]: b["payload"]
            for b in entries
        }
        assert set(payloads) == {"duration", "prices"}
        # neither may be what the customer meant: the last button asks for a person
        assert person == {"title": "None of these: talk to a person", "payload": "/request_human"}
        (answer,) = say(server.url, "unsure", str(payloads["duration"]))
        assert answer["custom"]["sources"][0]["id"] == "duration"  # type: ignore[index]


def test_the_assistant_passes_all_its_test_stories(
    assistant_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`parlez test` on the repository's assistant: every story in tests/test_stories.yml,
    with the trained NLU and the real actions (their calendar in a folder of the test's own)."""
    shutil.copy(REPO / "business.yml", tmp_path / "business.yml")
    monkeypatch.setenv("PARLEZ_PROJECT", str(tmp_path))
    monkeypatch.setenv("PARLEZ_NOW", "2026-11-25T10:00:00+00:00")
    (archive,) = sorted(assistant_models.glob("*.tar.gz"))
    agent = Agent.load(archive, Endpoints(), actions_module="actions")
    evaluation = asyncio.run(evaluate_stories(agent, Project(REPO).test_stories))
    assert [s.name for s in evaluation.failed] == []

"""`parlez run` sends a due follow-up e-mail on its own, from its background jobs, and the
e-mail's unsubscribe link works against the running server."""

from __future__ import annotations

import asyncio
import shutil
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import httpx

from parlez.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from parlez.stores.sql import SQLTrackerStore
from parlez.tracker import DialogueStateTracker
from tests.conftest import write
from tests.server.process import parlez_run
from tests.services import free_port

QUESTION = "Would you like to hear about our offers and news by e-mail now and then?"


async def seed(url: str, at: float) -> None:
    """Ana gave her address, said yes to e-mails, and asked what the assistant could not
    answer, a day ago."""
    store = SQLTrackerStore(url)
    tracker = DialogueStateTracker("ana-web", [])
    for event in (
        UserUttered("hi", {"name": "greet", "confidence": 0.9}, timestamp=at),
        SlotSet("email", "ana@example.com", timestamp=at + 1),
        BotUttered(QUESTION, timestamp=at + 2),
        SlotSet("marketing_consent", True, timestamp=at + 3),
        UserUttered("do you do extensions?", {"name": "nlu_fallback"}, timestamp=at + 4),
        ActionExecuted("action_default_fallback", timestamp=at + 5),
    ):
        tracker.update(event)
    await store.save(tracker)
    await store.close()


def test_parlez_run_sends_a_due_follow_up_and_its_link_unsubscribes(
    small_project: Path, small_model: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(small_project, project, ignore=shutil.ignore_patterns("models"))
    (project / "models").mkdir()
    model = Path(shutil.copy(small_model, project / "models" / small_model.name))
    port = free_port()
    write(project / "analytics.yml", "outcomes:\n  lead: {action: action_save_lead}\n")
    write(
        project / "marketing.yml",
        f"public_url: http://127.0.0.1:{port}\n"
        "follow_ups:\n  still-need-help: {after: unresolved, wait_days: 1, template: help}\n",
    )
    write(
        project / "follow_ups" / "help.en.txt",
        "Subject: Still need help?\n\nStop: {{ unsubscribe_url }}\n",
    )
    db = tmp_path / "c.db"
    asyncio.run(seed(f"sqlite+aiosqlite:///{db}", time.time() - 86400 - 60))
    endpoints = write(
        tmp_path / "endpoints.yml", f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n"
    )
    mail = project / "mail"  # no mail server configured: e-mails are written here
    with parlez_run(project, "-m", str(model), "--endpoints", str(endpoints), port=port) as server:
        deadline = time.monotonic() + 180
        while not list(mail.glob("*.eml")):
            assert time.monotonic() < deadline, "no follow-up was sent:\n" + server.log
            time.sleep(0.2)
        [sent] = list(mail.glob("*.eml"))
        message = message_from_bytes(sent.read_bytes(), policy=default)
        assert (message["To"], message["Subject"]) == ("ana@example.com", "Still need help?")
        link = str(message["List-Unsubscribe"]).strip().strip("<>")
        assert link.startswith(f"http://127.0.0.1:{port}/console/unsubscribe/")
        with httpx.Client(timeout=60) as client:
            asking = client.get(link)
            assert asking.status_code == 200 and "ana@example.com" in asking.text
            done = client.post(link)
            assert done.status_code == 200 and "will get no more e-mails" in done.text
        assert len(list(mail.glob("*.eml"))) == 1

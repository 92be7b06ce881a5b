"""Review, correct and retrain, end to end in Debian's Chromium: a message the assistant
misunderstood is corrected to the right intent by a designer with nothing but the browser
(words of it marked as an entity and unmarked on the way), the assistant is retrained from
the console, and the same message is then understood."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import write
from tests.connectors.webchat.browser import chromium
from tests.console.conftest import signed_in_page
from tests.server.process import ServerProcess, add_console_user, parlez_run
from tests.small_assistant import TEST_STORIES

DESIGNER = "dora@example.com"
PASSWORD = "a long enough password"
#: the small assistant reads it as `goodbye` (0.37) before the correction
MISUNDERSTOOD = "howdy partner"


@pytest.fixture(scope="module")
def served(
    small_project: Path, small_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, Any, Path]]:
    """A copy of the small assistant with a test story, served with its console."""
    root = tmp_path_factory.mktemp("review-browser")
    project = root / "project"
    shutil.copytree(small_project, project, ignore=shutil.ignore_patterns("models"))
    (project / "models").mkdir()
    shutil.copy(small_model, project / "models" / small_model.name)
    write(project / "tests" / "test_stories.yml", TEST_STORIES)
    write(project / "credentials.yml", "rest:\n")
    endpoints = write(
        root / "endpoints.yml",
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {root / 'conversations.db'}\n",
    )
    add_console_user(project, endpoints, DESIGNER, "designer", PASSWORD)
    model = project / "models" / small_model.name
    with (
        chromium() as browser,
        parlez_run(project, "-m", str(model), "--endpoints", str(endpoints)) as server,
    ):
        yield server, browser, project


def ask(server: ServerProcess, sender: str, text: str) -> str:
    reply = httpx.post(
        f"{server.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=120,
    )
    reply.raise_for_status()
    return " ".join(str(m.get("text")) for m in reply.json())


def test_a_misunderstood_message_is_corrected_retrained_and_then_understood(
    served: tuple[ServerProcess, Any, Path],
) -> None:
    server, browser, project = served
    assert ask(server, "before", MISUNDERSTOOD) == "Bye"  # read as goodbye
    context, designer = signed_in_page(browser, server.url, DESIGNER, PASSWORD)
    try:
        designer.get_by_role("link", name="Review").click()
        designer.get_by_role("link", name=MISUNDERSTOOD).click()
        # Words selected in the message are marked as an entity, and unmarked again.
        designer.evaluate(
            """() => {
              const words = document.querySelector("[data-said]").firstChild;
              const range = document.createRange();
              range.setStart(words, 6);
              range.setEnd(words, 13);
              getSelection().removeAllRanges();
              getSelection().addRange(range);
            }"""
        )
        designer.get_by_label("The selected words are").select_option("city")
        designer.get_by_role("button", name="Mark", exact=True).click()
        assert designer.locator("[data-marks]").input_value() == "6:13:city"
        assert "city = partner" in designer.locator("[data-marks-list]").inner_text()
        designer.get_by_role("button", name="Remove").click()
        assert designer.locator("[data-marks]").input_value() == ""
        designer.get_by_label("It meant").select_option("greet")
        designer.get_by_role("button", name="Correct: add as an example").click()
        added = designer.locator("pre.diff .add").all_inner_texts()
        assert len(added) == 1 and added[0].startswith("+")  # one line, and only one
        assert added[0].endswith(f"- {MISUNDERSTOOD}")
        designer.get_by_role("button", name="Accept").click()
        designer.get_by_role("status").get_by_text("Added as an example").wait_for()
        assert f"- {MISUNDERSTOOD}\n" in (project / "data" / "nlu.yml").read_text()

        designer.get_by_role("link", name="Models").click()
        designer.get_by_role("button", name="Retrain").click()
        # Training is a child process's work: minutes on a busy machine.
        designer.get_by_text("answers customers now").wait_for(timeout=600_000)
        assert "The test story passes" in designer.locator("#retraining").inner_text()
    finally:
        context.close()
    assert ask(server, "after", MISUNDERSTOOD) == "Hello! Where are you?"


def test_what_the_assistant_should_have_done_next_is_taught_as_a_story(
    served: tuple[ServerProcess, Any, Path],
) -> None:
    """Words the NLU has never seen get no intent it is sure of: the designer teaches, from
    the queue, the action that should have followed, as a story the page showed first."""
    server, browser, project = served
    unknown = "zzz qqq"
    ask(server, "lost", unknown)
    context, designer = signed_in_page(browser, server.url, DESIGNER, PASSWORD)
    try:
        designer.get_by_role("link", name="Review").click()
        designer.get_by_role("link", name=unknown).click()
        designer.get_by_label("After", exact=True).select_option("inform")
        designer.get_by_label("it should have done").select_option("utter_city")
        designer.get_by_label("as a story").check()
        designer.get_by_role("button", name="Correct: teach the next action").click()
        added = "\n".join(designer.locator("pre.diff .add").all_inner_texts())
        assert "+- story: " in added and "+  - action: utter_city" in added
        assert not (project / "data" / "stories.yml").exists()  # shown, not yet written
        designer.get_by_role("button", name="Accept").click()
        designer.get_by_role("status").get_by_text("Taught to do utter_city next").wait_for()
    finally:
        context.close()
    stories = (project / "data" / "stories.yml").read_text()
    assert "- story: lost then utter_city (from the console)" in stories
    assert stories.endswith("  - intent: inform\n  - action: utter_city\n")

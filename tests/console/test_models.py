"""Retraining from the console: the project trained in a child process, its test stories run,
the model put in only if they pass (or anyway, by a person's choice), and any earlier model
put back in one click; the assistant answers throughout."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import parlez.server.app as app_module
from parlez.console.retraining import Retraining, Stage, retrain
from parlez.console.roles import Role
from tests.conftest import write
from tests.console.conftest import Browser, Console, database_url, make_console
from tests.small_assistant import TEST_STORIES

pytestmark = pytest.mark.anyio


@pytest.fixture
async def console(
    small_model: Path,
    small_project: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Console]:
    """The console of a copy of the small assistant, its first model in its models folder.

    The test client starts and stops the app around every request, and a stopping server
    ends its retraining: here the retraining outlives the requests, as in a running server
    (the stop itself is pinned below)."""
    monkeypatch.setattr(app_module, "_stop_retraining", _keep_retraining)
    project = tmp_path / "project"
    shutil.copytree(small_project, project, ignore=shutil.ignore_patterns("models"))
    (project / "models").mkdir()
    first = project / "models" / small_model.name
    shutil.copy(small_model, first)
    made = await make_console(first, database_url("sqlite", request, tmp_path), project=project)
    yield made
    await made.close()


async def _keep_retraining(app: Any) -> None:
    return None


async def status(console: Console, browser: Browser) -> dict[str, Any]:
    _, reply = await console.app.asgi_client.get(
        "/console/models",
        headers={"cookie": browser._cookie()["cookie"], "accept": "application/json"},
    )
    assert reply.status == 200, reply.text
    found: dict[str, Any] = reply.json
    return found


async def finished(console: Console, browser: Browser) -> dict[str, Any]:
    """The retraining's outcome, once it has one (training is a child process's minutes on
    a busy machine: waited for, however long, up to ten)."""
    for _ in range(1200):
        found = (await status(console, browser))["retraining"]
        if not found["running"]:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError("the retraining did not finish")


def serving(found: dict[str, Any]) -> str:
    return next(m["name"] for m in found["models"] if m["serving"])


async def test_a_model_whose_stories_fail_is_kept_aside_until_a_person_chooses_it(
    console: Console,
) -> None:
    project: Path = console.app.ctx.state.project
    browser = await console.sign_in(Role.DESIGNER)
    first = serving(await status(console, browser))
    # A story the assistant does not answer this way: the new model fails it.
    write(
        project / "tests" / "test_stories.yml", TEST_STORIES.replace("utter_goodbye", "utter_city")
    )
    # Something to learn, as a correction in the console would add it.
    nlu = project / "data" / "nlu.yml"
    nlu.write_text(nlu.read_text().replace("      - hey\n", "      - hey\n      - hiya\n"))
    started = await browser.post("/console/models/retrain")
    assert started.status == 303
    assert (await browser.post("/console/models/retrain")).status == 409  # one at a time
    # The assistant answers while it trains.
    assert (await console.customer_says("during", "hello"))[0]["text"] == "Hello! Where are you?"
    job = await finished(console, browser)
    assert job["stage"] == "done" and job["stories"] == 1
    assert job["failed"] == ["hello and bye"] and not job["swapped"]
    # each part's last step: the NLU trained (its data changed), the dialogue reused
    steps = [(s["part"], s["step"]) for s in job["steps"]]
    assert steps == [("nlu", "done"), ("core", "reused"), ("knowledge", "done")]
    assert serving(await status(console, browser)) == first
    page = (await browser.get("/console/models")).text
    assert "fails 1 of 1 test stories" in page and "Use it anyway" in page
    used = await browser.post("/console/models/use", {"model": job["archive"]})
    assert used.status == 303
    assert serving(await status(console, browser)) == job["archive"] != first
    # ...and the earlier model is one click away.
    assert (await browser.post("/console/models/use", {"model": first})).status == 303
    assert serving(await status(console, browser)) == first
    audit = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "retrain" in audit and "use_model" in audit


async def test_a_model_whose_stories_pass_answers_at_once(console: Console) -> None:
    project: Path = console.app.ctx.state.project
    write(project / "tests" / "test_stories.yml", TEST_STORIES)
    browser = await console.sign_in(Role.ADMIN)
    await browser.post("/console/models/retrain")
    job = await finished(console, browser)
    assert job["stage"] == "done" and job["swapped"] and job["failed"] == []
    assert serving(await status(console, browser)) == job["archive"]
    assert console.app.ctx.state.agent.model.name == job["archive"]
    assert (await console.customer_says("after", "bye"))[0]["text"] == "Bye"


async def test_a_project_that_does_not_train_says_why_and_the_model_stays(
    console: Console,
) -> None:
    project: Path = console.app.ctx.state.project
    (project / "domain.yml").write_text("intents: [greet\n")  # broken by hand
    browser = await console.sign_in(Role.DESIGNER)
    first = serving(await status(console, browser))
    await browser.post("/console/models/retrain")
    job = await finished(console, browser)
    assert job["stage"] == "failed" and "domain.yml" in job["problem"]
    assert serving(await status(console, browser)) == first


async def test_only_a_model_of_the_models_folder_can_be_put_in(console: Console) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    for name in ("../project/domain.yml", "nope.tar.gz", ""):
        assert (await browser.post("/console/models/use", {"model": name})).status == 404


async def test_a_stopping_server_ends_its_retraining_and_puts_no_model_in(
    small_model: Path, small_project: Path, tmp_path: Path
) -> None:
    from parlez.agent import Agent
    from parlez.server.app import _stop_retraining
    from parlez.server.state import ServerState

    project = tmp_path / "project"
    shutil.copytree(small_project, project, ignore=shutil.ignore_patterns("models"))
    agent = Agent.load(small_model)
    state = ServerState(agent=agent, project=project, models=tmp_path / "models")
    job = Retraining(by="dora@example.com")
    task = asyncio.create_task(retrain(state, job))
    app = type("App", (), {})()
    app.ctx = type("Ctx", (), {"console_retraining_tasks": {task}})()
    await asyncio.sleep(0)  # it has started
    await _stop_retraining(app)
    assert task.cancelled() and job.stage == Stage.FAILED and not job.running
    assert "stopped" in (job.problem or "") and state.agent is agent


async def test_a_designer_sees_the_projects_stories_as_a_graph(console: Console) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    page = (await browser.get("/console/models/stories")).text
    assert "<svg" in page and ">START</text>" in page and ">END</text>" in page
    assert 'href="/console/models/stories"' in (await browser.get("/console/models")).text


async def test_the_graph_escapes_what_the_stories_say(console: Console, tmp_path: Path) -> None:
    write(
        tmp_path / "project" / "data" / "stories_e2e.yml",
        """
        version: "3.1"
        stories:
        - story: says something odd
          steps:
          - user: <img src=x onerror=alert(1)>
          - bot: <b>bold</b>
        """,
    )
    browser = await console.sign_in(Role.DESIGNER)
    page = (await browser.get("/console/models/stories")).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


async def test_the_stories_page_needs_the_right_to_teach(console: Console) -> None:
    browser = await console.sign_in(Role.AGENT)
    reply = await browser.get("/console/models/stories")
    assert reply.status == 403


async def test_a_story_file_that_cannot_be_read_is_named_on_the_page(
    console: Console, tmp_path: Path
) -> None:
    write(tmp_path / "project" / "data" / "broken.yml", "stories:\n- story: x\n  steps: 3\n")
    page = (await (await console.sign_in(Role.DESIGNER)).get("/console/models/stories")).text
    assert "The stories cannot be read" in page and "broken.yml" in page

"""A console on the small assistant: conversations in SQLite (its tables beside them), one
user per role, and a way to sign in as any of them."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from parlez.agent import Agent
from parlez.channels.channel import InputChannel
from parlez.channels.rest import RestInput
from parlez.console.auth import COOKIE
from parlez.console.database import ConsoleDatabase
from parlez.console.roles import Role
from parlez.endpoints import Endpoints
from parlez.events import Event, UserUttered
from parlez.server.app import create_app
from parlez.server.state import ServerState
from parlez.stores.sql import SQLTrackerStore
from parlez.stores.tracker_store import TrackerStore
from parlez.tracker import DialogueStateTracker
from tests import small_assistant
from tests.conftest import REPO, write
from tests.services import Postgres

PASSWORD = "correct horse battery"


def email(role: Role) -> str:
    return f"{role.value}@example.com"


@dataclass
class Console:
    app: Sanic[Any, Any]
    database: ConsoleDatabase

    async def sign_in(self, role: Role) -> Browser:
        _, reply = await self.app.asgi_client.post(
            "/console/login", data={"email": email(role), "password": PASSWORD}
        )
        assert reply.status == 303, reply.text
        token = reply.cookies[COOKIE]
        _, page = await self.app.asgi_client.get(
            "/console/inbox", headers={"cookie": f"{COOKIE}={token}"}
        )
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None
        return Browser(self.app, token, found.group(1))

    async def close(self) -> None:
        """Let the app's background work (the index catching up) finish, then close the
        database's connections: none is left for the garbage collector of a later test."""
        running = [task for task in self.app.tasks if not task.done()]
        await asyncio.wait_for(asyncio.gather(*running, return_exceptions=True), 60)
        await self.database.engine.dispose()

    async def customer_says(self, sender: str, text: str) -> list[dict[str, Any]]:
        _, reply = await self.app.asgi_client.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        assert reply.status == 200, reply.text
        messages: list[dict[str, Any]] = reply.json
        return messages


@dataclass
class Browser:
    """A signed-in browser: its cookie, and the CSRF token its pages carry."""

    app: Sanic[Any, Any]
    token: str
    csrf: str

    async def get(self, path: str) -> Any:
        _, reply = await self.app.asgi_client.get(path, headers=self._cookie())
        return reply

    def _cookie(self) -> dict[str, str]:
        return {"cookie": f"{COOKIE}={self.token}"}

    async def post(self, path: str, data: dict[str, str] | None = None, csrf: bool = True) -> Any:
        form = {**(data or {}), **({"csrf": self.csrf} if csrf else {})}
        _, reply = await self.app.asgi_client.post(path, data=form, headers=self._cookie())
        return reply


def database_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}"
    server: Postgres = request.getfixturevalue("postgres")
    name = f"c{uuid.uuid4().hex[:10]}"
    server.psql(f"CREATE DATABASE {name}")
    return server.url(name)


async def make_console(
    model: Path,
    url: str,
    endpoints: Endpoints | None = None,
    channels: list[InputChannel] | None = None,
    project: Path | None = None,
) -> Console:
    """A console over the conversations at `url`, with one user per role, for the project
    in `project` (by default an empty one of its own: never the repository's)."""
    store = SQLTrackerStore(url)
    database = ConsoleDatabase(store.engine)
    for role in Role:
        await database.add_user(email(role), PASSWORD, role)
    project = project or Path(tempfile.mkdtemp(prefix="console-project-"))
    state = ServerState(
        agent=Agent.load(model, tracker_store=store),
        tracker_store=store,
        channels=channels or [RestInput()],
        console=database,
        endpoints=endpoints or Endpoints(),
        project=project,
        models=project / "models",
    )
    return Console(create_app(state), database)


#: the knowledge base of the console's project
FAQ = """\
# What customers ask most.
faq:
  - id: hours
    question: What are your opening hours?
    answer: Monday to Friday, 9:00 to 18:00.

  - id: parking
    question: Is there parking nearby?
    answer: Yes, the Maple Street car park.
"""


@pytest.fixture(params=["sqlite", "postgresql"])
async def console(
    small_model: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Console]:
    """The console on SQLite and on PostgreSQL: its migrations and queries run on both."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    model = Path(shutil.copy(small_model, project / "models" / small_model.name))
    write(project / "data" / "kb" / "faq.yml", FAQ)
    write(project / "domain.yml", small_assistant.DOMAIN)
    shutil.copy(REPO / "business.yml", project / "business.yml")
    write(project / "data" / "nlu.yml", "nlu:\n- intent: greet\n  examples: |\n    - hello\n")
    made = await make_console(
        model, database_url(request.param, request, tmp_path), project=project
    )
    yield made
    await made.close()


def signed_in_page(
    browser: Any, url: str, address: str, password: str, width: int = 1280
) -> tuple[Any, Any]:
    """A Chromium context and page signed in to the console at `url` as `address`, on its
    inbox."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/console/")
    page.get_by_label("E-mail").fill(address)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Inbox").wait_for()
    return context, page


def digest_in(page: str) -> str:
    """The digest a page's form carries (the file as it was when the page was made)."""
    found = re.search(r'name="digest" value="([0-9a-f]*)"', page)
    assert found is not None
    return found.group(1)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLTrackerStore]:
    """Conversations in SQL, on SQLite and on PostgreSQL, for the console's read models."""
    made = SQLTrackerStore(database_url(request.param, request, tmp_path))
    yield made
    await made.close()


async def add(store: TrackerStore, sender: str, *events: Event) -> None:
    """`events` saved at the end of the conversation `sender` (a new one if need be)."""
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
    for event in events:
        tracker.update(event)
    await store.save(tracker)


def said(text: str, at: float, channel: str, **metadata: Any) -> UserUttered:
    """A customer's message on `channel`, with the metadata the channel gives it."""
    return UserUttered(
        text,
        {"name": "greet", "confidence": 0.9},
        timestamp=at,
        input_channel=channel,
        metadata=metadata,
    )

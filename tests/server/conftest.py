"""A small assistant trained once per test session, served by an app built per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from parlez.agent import Agent
from parlez.channels.channel import InputChannel
from parlez.channels.rest import RestInput
from parlez.server.app import create_app
from parlez.server.auth import Auth
from parlez.server.state import ServerState
from parlez.stores.sql import SQLTrackerStore

AppFactory = Callable[..., Sanic[Any, Any]]


@pytest.fixture
def make_app(small_model: Path, tmp_path: Path) -> AppFactory:
    """An app on the small model with a SQLite store in tmp_path; options as `create_app`'s."""

    def make(
        *,
        enable_api: bool = True,
        auth: Auth | None = None,
        loaded: bool = True,
        channels: list[InputChannel] | None = None,
        **options: Any,
    ) -> Sanic[Any, Any]:
        store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}")
        agent = Agent.load(small_model, tracker_store=store) if loaded else None
        state = ServerState(
            agent=agent,
            tracker_store=store,
            models=small_model.parent,
            auth=auth or Auth(),
            channels=channels or [RestInput()],
            **{k: v for k, v in options.items() if k in ("response_timeout",)},
        )
        return create_app(
            state,
            enable_api=enable_api,
            **{k: v for k, v in options.items() if k in ("cors", "max_body")},
        )

    return make

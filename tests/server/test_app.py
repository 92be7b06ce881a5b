"""The app's routes say how their errors are answered, so that Sanic does not read and
parse each handler's source at every start to guess it."""

from __future__ import annotations

from pathlib import Path

from parlez.agent import Agent
from parlez.channels.rest import RestInput
from parlez.channels.socketio import SocketIOInput
from parlez.console.database import ConsoleDatabase
from parlez.http.blueprint import ERROR_FORMAT
from parlez.server.app import create_app
from parlez.server.auth import Auth
from parlez.server.state import ServerState
from parlez.stores.sql import SQLTrackerStore


def test_every_route_of_parlez_says_its_error_format(small_model: Path, tmp_path: Path) -> None:
    store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}")
    state = ServerState(
        agent=Agent.load(small_model, tracker_store=store),
        tracker_store=store,
        models=small_model.parent,
        auth=Auth(),
        channels=[RestInput(), SocketIOInput()],
        console=ConsoleDatabase(store.engine),
    )
    app = create_app(state, enable_api=True)
    app.router.finalize()
    paths = {route.path for route in app.router.routes}
    assert {"model/parse", "webhooks/rest/webhook", "console/inbox"} <= paths
    guessed = {
        route.path
        for route in app.router.routes
        if route.extra.error_format != ERROR_FORMAT
        # python-socketio's own route, which it adds itself
        and route.handler.__qualname__ != "AsyncServer.handle_request"
    }
    assert not guessed

"""`parlez run`: load (or first train) the assistant, open its stores and channels, serve."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parlez import tracing
from parlez.agent import Agent
from parlez.channels.channel import ChannelConfigError, InputChannel
from parlez.channels.credentials import channel_class, channels_from_credentials
from parlez.console.analytics.config import configured
from parlez.console.database import ConsoleDatabase
from parlez.console.sso import SingleSignOn
from parlez.diagnostics import warn
from parlez.endpoints import Endpoints, read_credentials
from parlez.exceptions import ParlezError
from parlez.experiments import Experiments
from parlez.inference import limit_torch_threads, run_on_inference_thread
from parlez.jobs.project_jobs import project_jobs
from parlez.model import latest_model
from parlez.project import Project
from parlez.server.auth import Auth
from parlez.server.state import DEFAULT_RESPONSE_TIMEOUT, ServerState
from parlez.server.tls import TlsFiles
from parlez.stores.factory import stores_from_endpoints
from parlez.stores.sql import SQLTrackerStore
from parlez.stores.tracker_store import TrackerStore

logger = logging.getLogger(__name__)


@dataclass
class ServeOptions:
    project: Path = Path(".")
    model: Path = Path("models")
    host: str = "127.0.0.1"
    port: int = 5005
    enable_api: bool = False
    cors: list[str] | None = None
    auth_token: str | None = None
    jwt_secret: str | None = None
    jwt_method: str = "HS256"
    credentials: Path | None = None
    endpoints: Path | None = None
    connector: str | None = None
    actions: str | None = None
    response_timeout: float = DEFAULT_RESPONSE_TIMEOUT
    train_if_missing: bool = True
    access_log: bool = False
    #: serve the API on a network interface with neither a token nor a JWT secret
    insecure_no_auth: bool = False
    #: HTTPS: the certificate and key (None: plain HTTP)
    tls: TlsFiles | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class OpenApiError(ParlezError):
    code = "P330"


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(options: ServeOptions) -> None:
    """Refuse to serve Rasa's HTTP API, which can rewrite any conversation and replace the
    model, to the network with no credentials, unless that is asked for in so many words."""
    if not options.enable_api or options.auth_token or options.jwt_secret:
        return
    if is_loopback(options.host) or options.insecure_no_auth:
        return
    raise OpenApiError(
        f"--enable-api on '{options.host}' with no --auth-token or --jwt-secret would let "
        "anyone who reaches this machine read and change every conversation and the model",
        hint="set --auth-token (or --jwt-secret), serve on 127.0.0.1 behind a proxy that "
        "checks who calls, or pass --insecure-no-auth if the network itself is private",
    )


def check_lock_store(state: ServerState) -> None:
    """Warn when conversations live in a database several processes share but their locks
    live in this process: two processes can then handle one conversation's messages at once
    and one of them overwrites the other's view (1 in 40 messages lost in a test)."""
    from parlez.stores.lock_store import InMemoryLockStore
    from parlez.stores.sql import SQLTrackerStore

    store = state.tracker_store
    if not isinstance(store, SQLTrackerStore) or not isinstance(
        state.lock_store, InMemoryLockStore
    ):
        return
    url = store.url if not isinstance(store.url, str) else None
    backend = url.get_backend_name() if url is not None else str(store.url).split(":", 1)[0]
    if backend.startswith("postgres"):
        warn(
            "P331",
            "the tracker store is PostgreSQL, which other parlez processes can share, but "
            "the lock store is this process's memory",
            hint="if more than one process serves this assistant, add a `lock_store:` of "
            "type redis to endpoints.yml (see docs/server.md)",
        )


def find_or_train_model(options: ServeOptions, say: Any = print) -> Path | None:
    """The newest model; when there is none and the project has its files, train one now."""
    archive = latest_model(options.model)
    if archive is not None:
        return archive
    project = Project(options.project)
    if not options.train_if_missing or not (project.config_path.exists() and project.has_domain):
        return None
    from parlez.training import train

    say(f"No model in '{options.model}': training one first.")
    models = options.model if options.model.suffix != ".gz" else options.model.parent
    models.mkdir(parents=True, exist_ok=True)
    # On the models' thread: torch then runs on that one thread only (parlez.inference).
    result = run_on_inference_thread(train, project, models)
    say(f"Trained '{result.archive.name}' in {result.seconds:.1f} s.")
    return result.archive


def input_channels(options: ServeOptions) -> list[InputChannel]:
    path = options.credentials or options.project / "credentials.yml"
    credentials = read_credentials(path)
    if options.connector:
        return [
            channel_class(options.connector).from_credentials(credentials.get(options.connector))
        ]
    if not credentials:
        logger.info("no channel in credentials.yml: serving the REST channel")
        return [channel_class("rest").from_credentials({})]
    channels = channels_from_credentials(credentials)
    names = [c.name() for c in channels]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ChannelConfigError(f"the channel(s) {sorted(duplicates)} are configured twice")
    return channels


def build_state(
    options: ServeOptions, say: Any = print, *, wait_for_warm_up: bool = True
) -> ServerState:
    """What a server serves. `wait_for_warm_up=False` returns while the model warms up
    (`Agent.warmed` waits for it): `serve` builds its routes meanwhile."""
    sys.path.insert(0, str(options.project.resolve()))  # custom channels, stores and actions
    endpoints_path = (options.endpoints or options.project / "endpoints.yml").resolve()
    # In-process actions read the same settings (their `llm:`, say) from here.
    os.environ["PARLEZ_PROJECT"] = str(options.project.resolve())
    os.environ["PARLEZ_ENDPOINTS"] = str(endpoints_path)
    endpoints = Endpoints.load(endpoints_path)
    tracing.configure(endpoints.tracing)
    # A mistake in the console's sign-on settings is told before minutes of training.
    SingleSignOn.from_endpoints(endpoints.console)
    # A mistake in the A/B tests is told before minutes of training too: it changes what
    # customers are answered.
    analytics, _ = configured(options.project)
    experiments = Experiments.load(options.project, tuple(o.name for o in analytics.outcomes))
    # The project's jobs import its own code: a wrong name is told before training too.
    jobs = project_jobs(endpoints.jobs, options.project)
    archive = find_or_train_model(options, say)
    tracker_store, lock_store = stores_from_endpoints(endpoints, (), options.project)
    agent = None
    if archive is not None:
        agent = Agent.load(
            archive, endpoints, options.actions, tracker_store=tracker_store, lock_store=lock_store
        )
        agent.start_warm_up()
    else:
        say("No model to load: the server starts without one (PUT /model loads one).")
    state = ServerState(
        agent=agent,
        tracker_store=tracker_store,
        lock_store=lock_store,
        endpoints=endpoints,
        project=options.project,
        models=options.model if options.model.is_dir() else options.model.parent,
        actions_module=options.actions,
        auth=Auth(options.auth_token, options.jwt_secret, options.jwt_method),
        channels=input_channels(options),
        credentials=options.credentials or options.project / "credentials.yml",
        response_timeout=options.response_timeout,
        console=console_database(tracker_store, options.project),
        experiments=experiments,
        ask_rating_after=analytics.ask_rating_after,
        project_jobs=jobs,
    )
    if agent is not None and wait_for_warm_up:
        agent.warmed()
    return state


def console_database(tracker_store: TrackerStore, project: Path) -> ConsoleDatabase:
    """The console's tables sit beside the conversations when those are in SQL; else in
    `console.db` in the project."""
    if isinstance(tracker_store, SQLTrackerStore):
        return ConsoleDatabase(tracker_store.engine)
    return ConsoleDatabase.at(f"sqlite+aiosqlite:///{(project / 'console.db').resolve()}")


def serve(options: ServeOptions, say: Any = print) -> None:
    from parlez.server.app import create_app
    from parlez.server.lifecycle import serve_until_signalled

    started = time.perf_counter()
    check_exposure(options)
    tls = options.tls.context() if options.tls is not None else None
    scheme = "https" if tls is not None else "http"
    state = build_state(options, say, wait_for_warm_up=False)
    check_lock_store(state)
    app = create_app(state, enable_api=options.enable_api, cors=options.cors)
    if state.agent is not None:
        state.agent.warmed()
    limit_torch_threads()  # where a model still runs in torch
    model = state.agent.model.name if state.agent and state.agent.model else "no model"

    @app.before_server_start
    async def migrate(app: Any) -> None:
        if state.console is not None:
            await state.console.upgrade()

    @app.after_server_start
    async def ready(app: Any) -> None:
        if state.console is not None:
            first = (
                ""
                if await state.console.count_users()
                else "; create its first user with: "
                "parlez console add-user you@example.com --role owner"
            )
            say(f"The console is at {scheme}://{options.host}:{options.port}/console/{first}")
        say(
            f"parlez is serving '{model}' at {scheme}://{options.host}:{options.port} "
            f"(ready in {time.perf_counter() - started:.1f} s; channels: "
            f"{', '.join(c.name() for c in state.channels) or 'none'}; "
            f"API {'on' if options.enable_api else 'off'})"
        )

    asyncio.run(
        serve_until_signalled(
            app, state, options.host, options.port, access_log=options.access_log, tls=tls
        )
    )

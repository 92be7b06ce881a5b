"""The Sanic application `parlez run` serves: channels, Rasa's HTTP API, shutdown that loses
nothing."""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import BaseHTTPResponse, HTTPResponse

from parlez import tracing
from parlez.channels.channel import Conversations, InputChannel, OnNewMessage
from parlez.http.blueprint import ERROR_FORMAT
from parlez.server.errors import ApiError, error_response, handle_exception
from parlez.server.lifecycle import refuse_while_stopping
from parlez.server.metrics import add_routes as add_metrics_routes
from parlez.server.metrics import time_requests
from parlez.server.openapi import openapi_route
from parlez.server.state import ServedConversations, ServerState
from parlez.server.traces import trace_requests

logger = logging.getLogger(__name__)

#: Bodies above this are refused with 413 before they are read (Rasa's default is 1 GB;
#: a chat message is a few KB, a training payload a few MB).
DEFAULT_MAX_BODY = 8 * 1024 * 1024


#: seconds a stopping server lets the index finish the chunk it is writing
INDEX_GRACE = 5.0


async def _stop_indexing(app: Sanic[Any, Any]) -> None:
    """Let the index's catching up finish its chunk, or stop it: either way it holds no
    database connection when the stores close (the next start carries on from its place)."""
    task: asyncio.Task[None] | None = getattr(app.ctx, "console_indexing", None)
    if task is None or task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), INDEX_GRACE)
    except TimeoutError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _stop_retraining(app: Sanic[Any, Any]) -> None:
    """A retraining the console started ends with the server: its training process is left
    to finish on its own, and no model is swapped into a server that is stopping."""
    tasks: set[asyncio.Task[None]] = getattr(app.ctx, "console_retraining_tasks", None) or set()
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def create_app(
    state: ServerState,
    *,
    enable_api: bool = False,
    cors: list[str] | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"parlez_{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = max_body
    app.config.RESPONSE_TIMEOUT = int(max(state.response_timeout + 5, 60))
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 30
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.ctx.state = state
    app.ctx.auth = state.auth
    app.ctx.console = state.console
    app.ctx.cors = cors
    app.error_handler.add(Exception, handle_exception)

    async def limit_body(request: Request) -> HTTPResponse | None:
        # Sanic's own limit applies when it serves HTTP itself; this one holds under ASGI too.
        length = request.headers.get("content-length")
        if (length and length.isdigit() and int(length) > max_body) or len(
            request.body or b""
        ) > max_body:
            return error_response(
                ApiError(413, "PayloadTooLarge", f"the request body is over {max_body} bytes")
            )
        return None

    async def refuse_multipart_without_boundary(request: Request) -> HTTPResponse | None:
        # Sanic would log a traceback reading such a form and hand the route an empty one.
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/") and "boundary=" not in content_type:
            return error_response(
                ApiError(400, "BadRequest", "a multipart body needs its boundary parameter")
            )
        return None

    app.register_middleware(limit_body, "request")
    app.register_middleware(refuse_multipart_without_boundary, "request")
    time_requests(app)
    trace_requests(app)
    refuse_while_stopping(app, state)

    from parlez.server.api import api, hello, version

    served = ServedConversations(state)
    for channel in state.channels:
        app.blueprint(channel_blueprint(channel, state.on_new_message, served))
    if enable_api:
        from parlez.server.conversations import conversations

        app.blueprint(api)
        app.blueprint(conversations)
    if state.console is not None:
        from parlez.console import blueprint
        from parlez.console.analytics.config import configured
        from parlez.console.analytics.summaries import ConversationSummaries
        from parlez.console.analytics.weekly import WeeklyReporter
        from parlez.console.audience_sync import marketing_sync
        from parlez.console.business import read_business
        from parlez.console.follow_ups import FollowUps
        from parlez.console.index import ConversationIndex
        from parlez.console.live import LiveFeed, SharedLiveFeed
        from parlez.console.sso import OpenIdProvider, SingleSignOn
        from parlez.jobs import job_runner

        sso = SingleSignOn.from_endpoints(state.endpoints.console)
        app.ctx.console_sso = OpenIdProvider(sso) if sso is not None else None
        shared = state.lock_store.shared_redis
        app.ctx.console_feed = SharedLiveFeed(shared) if shared is not None else LiveFeed()
        state.tracker_store.listeners.append(app.ctx.console_feed.saved)
        analytics, app.ctx.analytics_problem = configured(state.project)
        app.ctx.console_index = ConversationIndex(state.tracker_store, state.console, analytics)
        app.blueprint(blueprint())

        app.ctx.console_weekly = WeeklyReporter(
            app.ctx.console_index,
            state.console,
            state.project,
            lambda: read_business(state.project),
        )
        app.ctx.marketing, app.ctx.audience_sync, app.ctx.marketing_problem = marketing_sync(
            app.ctx.console_index, state.project
        )
        app.ctx.jobs = job_runner(state.console)
        app.ctx.follow_ups = FollowUps(
            app.ctx.console_index,
            app.ctx.marketing,
            state.project,
            lambda: read_business(state.project),
        )
        app.ctx.follow_ups.schedule_on(app.ctx.jobs)
        if state.tracker_store.event_broker is not None:
            # the reports' view of each conversation, for the business's own analytics
            ConversationSummaries(app.ctx.console_index, state.tracker_store.announce).schedule_on(
                app.ctx.jobs
            )
        for job in state.project_jobs:
            app.ctx.jobs.add(job.task(), every=job.every)

        @app.after_server_start
        async def index_conversations(app: Sanic[Any, Any]) -> None:
            # Older conversations are read into the inbox's index in the background.
            app.ctx.console_feed.start()
            app.ctx.console_indexing = asyncio.create_task(app.ctx.console_index.keep_up())
            app.ctx.console_weekly_task = asyncio.create_task(app.ctx.console_weekly.keep_sending())
            if app.ctx.audience_sync is not None:
                app.ctx.audience_task = asyncio.create_task(app.ctx.audience_sync.keep_syncing())
            await app.ctx.jobs.start()
    elif state.project_jobs:
        logger.warning(
            "the jobs of endpoints.yml are not run: they run on the console's database, and "
            "this server has no console"
        )

    # The health routes are always there; the rest of the API only when asked for.
    get = {"GET"}  # every error is answered in JSON (parlez.server.errors)
    app.add_route(hello, "/", methods=get, name="hello", error_format=ERROR_FORMAT)
    app.add_route(version, "/version", methods=get, name="version", error_format=ERROR_FORMAT)
    app.add_route(
        openapi_route, "/openapi.json", methods=get, name="openapi", error_format=ERROR_FORMAT
    )
    add_metrics_routes(app)
    if cors:
        _add_cors(app, cors)

    @app.after_server_start
    async def watch_reminders(app: Sanic[Any, Any]) -> None:
        # Conversations in SQL keep their reminders there: this process fires its share.
        state.reminders.share(state.tracker_store, state.output_for)

    @app.before_server_stop
    async def finish_messages(app: Sanic[Any, Any]) -> None:
        # SIGTERM: the server stopped accepting; let messages being handled save their events.
        # Pending reminders are forgotten with the in-memory store, as in Rasa; a SQL store
        # keeps them for the next start (or another process).
        await state.reminders.close()
        if getattr(app.ctx, "console_feed", None) is not None:
            app.ctx.console_feed.close()
            for name in ("console_weekly_task", "audience_task"):
                task = getattr(app.ctx, name, None)
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            await app.ctx.jobs.close()
            await _stop_indexing(app)
            await _stop_retraining(app)
        await state.drain()

    @app.after_server_stop
    async def close_stores(app: Sanic[Any, Any]) -> None:
        await state.tracker_store.close()
        await state.lock_store.close()
        if state.console is not None:
            await state.console.close()
        if getattr(app.ctx, "console_feed", None) is not None:
            await app.ctx.console_feed.aclose()
        if getattr(app.ctx, "audience_sync", None) is not None:
            await app.ctx.audience_sync.audience.aclose()
        tracing.shutdown()  # what is still buffered is sent

    return app


def channel_blueprint(
    channel: InputChannel, on_new_message: OnNewMessage, conversations: Conversations
) -> Blueprint:
    """The channel's routes; `conversations` only for a channel that takes it (one written
    for Rasa's contract takes `on_new_message` alone)."""
    if "conversations" in inspect.signature(channel.blueprint).parameters:
        return channel.blueprint(on_new_message, conversations=conversations)
    return channel.blueprint(on_new_message)


def _add_cors(app: Sanic[Any, Any], origins: list[str]) -> None:
    allowed = set(origins)

    def allow(request: Request) -> str | None:
        origin = request.headers.get("Origin")
        if not origin:
            return None
        if "*" in allowed:
            return "*"
        return origin if origin in allowed else None

    @app.on_request
    async def preflight(request: Request) -> HTTPResponse | None:
        if request.method != "OPTIONS" or not request.headers.get("Access-Control-Request-Method"):
            return None
        origin = allow(request)
        if origin is None:
            return error_response(ApiError(403, "NotAuthorized", "this origin is not allowed"))
        return HTTPResponse(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": request.headers.get(
                    "Access-Control-Request-Headers", "Content-Type, Authorization"
                ),
                "Access-Control-Max-Age": "600",
            },
        )

    async def headers(request: Request, response: BaseHTTPResponse) -> None:
        origin = allow(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"

    app.register_middleware(headers, "response")

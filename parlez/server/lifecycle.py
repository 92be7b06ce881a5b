"""Serving until SIGTERM, then stopping in the order that loses no accepted message.

Sanic's own runner drains in `before_server_stop` while the listener is still open and then
gives keep-alive connections a grace period in which they may keep sending, so a server
went on answering new requests for half a minute after the signal and cut off some that it
had accepted. Here the order is explicit:

1. stop listening: no new connection is accepted;
2. refuse new requests on open connections (503, `Connection: close`): a client knows at
   once that its message was not taken, and sends it elsewhere;
3. finish every request already taken, and every message still being handled after its
   client gave up (`ServerState.guarded`), then close the connections;
4. run the server's stop listeners (reminders, stores) and exit.

Step 3 waits at most `drain_seconds` (30 by default, as docs/server.md promises).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse, HTTPResponse

from parlez.server.errors import error_response
from parlez.server.state import ServerState, shutting_down

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0


def refuse_while_stopping(app: Sanic[Any, Any], state: ServerState) -> None:
    """Middleware: once the server is stopping, new requests get a 503 and every answer
    closes its connection."""

    async def refuse(request: Request) -> HTTPResponse | None:
        if not state.stopping:
            return None
        _close_after_answer(request)
        return error_response(shutting_down())

    async def close_after(request: Request, response: BaseHTTPResponse) -> None:
        if state.stopping:
            _close_after_answer(request)

    app.register_middleware(refuse, "request", priority=1000)
    app.register_middleware(close_after, "response")


def _close_after_answer(request: Request) -> None:
    stream = getattr(request, "stream", None)
    if stream is not None and hasattr(stream, "keep_alive"):
        stream.keep_alive = False


async def serve_until_signalled(
    app: Sanic[Any, Any],
    state: ServerState,
    host: str,
    port: int,
    *,
    access_log: bool = False,
    drain_seconds: float = DRAIN_SECONDS,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Serve `app` on host:port (HTTPS with `tls`) until SIGTERM or SIGINT, then shut down
    (see the module)."""
    server = await app.create_server(
        host=host, port=port, access_log=access_log, return_asyncio_server=True, ssl=tls
    )
    if server is None or server.server is None:
        raise OSError(f"could not listen on {host}:{port}")
    await server.startup()
    await server.before_start()
    await server.after_start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start_serving()
        await stop.wait()
        server.server.close()
        state.stopping = True
        logger.info("stopping: no new message is taken; finishing the ones taken")
        if not await _finish(server.connections, state, loop.time() + drain_seconds):
            logger.error(
                "stopping after %.0f s with %d message(s) still being handled",
                drain_seconds,
                len(state.in_flight),
            )
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await server.before_stop()
        for connection in list(server.connections):
            _close(connection, idle_only=False)
        await server.after_stop()


async def _finish(connections: set[Any], state: ServerState, deadline: float) -> bool:
    """Wait until every accepted request is answered and every message is saved; False if
    the deadline came first."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        for connection in list(connections):
            _close(connection, idle_only=True)
        busy = [c for c in connections if not getattr(c, "websocket", None)]
        if not busy and not state.in_flight:
            return True
        if state.in_flight:
            await asyncio.wait(set(state.in_flight), timeout=min(0.1, deadline - loop.time()))
        else:
            # Connections finish writing their answers on their own; look again shortly.
            await asyncio.sleep(0.02)
    return False


def _close(connection: Any, *, idle_only: bool) -> None:
    websocket = getattr(connection, "websocket", None)
    if websocket is not None:
        if not idle_only:
            websocket.fail_connection(code=1001)  # going away: the client reconnects
        return
    if idle_only:
        connection.close_if_idle()
    else:
        connection.close()

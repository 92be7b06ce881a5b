"""One HTTP client per event loop for the messaging platforms' APIs.

A new `httpx.AsyncClient` per message costs a TLS context and a connection (a quarter of a
second a message on a busy two-core machine, measured with bench/channels.py); one shared
client keeps its connections to the platform open. It is kept per event loop, since a
client's connections belong to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import weakref

import httpx

#: how long a platform's API may take to answer one request, in seconds
TIMEOUT = 20.0

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def platform_client() -> httpx.AsyncClient:
    """The running loop's client for platform APIs, made on first use."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(timeout=TIMEOUT)
        _clients[loop] = client
    return client

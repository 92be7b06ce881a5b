"""What every local stand-in for a web API shares: a quiet handler that answers JSON, and a
threaded server on 127.0.0.1 for as long as a test uses it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any, **headers: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


class Served(Protocol):
    port: int


class Server:
    """`handler` served on 127.0.0.1, on a free port the first time (written to `fake.port`)
    and on the same port after a `stop`: a service that goes away and comes back."""

    def __init__(self, fake: Served, handler: type[BaseHTTPRequestHandler]) -> None:
        self.fake = fake
        self.handler = handler
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.fake.port or 0), self.handler)
        self.fake.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Closed: a connection to its port is refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def serving(fake: Served, handler: type[BaseHTTPRequestHandler]) -> Iterator[Server]:
    """Serve `handler` on a free port of 127.0.0.1 (written to `fake.port`) until the end."""
    server = Server(fake, handler)
    server.start()
    try:
        yield server
    finally:
        server.stop()

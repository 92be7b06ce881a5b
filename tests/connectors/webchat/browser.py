"""Debian's Chromium driven by Playwright, and a web page on its own origin that embeds the
chat with one script tag, as a business's site does."""

from __future__ import annotations

import html
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import REPO, write
from tests.server.process import ServerProcess, parlez_run
from tests.services import free_port, missing

CHROMIUM = "/usr/bin/chromium"
#: the flags a sandboxed machine without a network needs; no Google services, no updates
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: page styles that would break a widget that did not keep to its Shadow DOM
HOSTILE_CSS = """
button { background: rgb(255, 0, 0) !important; font-size: 40px !important; }
div { padding: 30px !important; color: lime !important; }
"""


def page_html(chat_url: str, attributes: dict[str, str]) -> str:
    attrs = "".join(f' data-{k}="{html.escape(v)}"' for k, v in attributes.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Maple Street Studio</title><style>{HOSTILE_CSS}</style></head>
<body><h1>Maple Street Studio</h1><p>Haircuts, colouring and more.</p>
<script src="{chat_url}/webchat/widget.js"{attrs}></script>
</body></html>"""


@contextmanager
def site(chat_url: str) -> Iterator[str]:
    """A website on 127.0.0.1:<port>: `/?language=ar&open=true` sets the tag's data- attributes."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            attributes = {k: v[-1] for k, v in query.items()}
            body = page_html(chat_url, attributes).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextmanager
def chromium(*flags: str) -> Iterator[Any]:
    """Debian's Chromium, with `flags` besides CHROMIUM_FLAGS."""
    if not Path(CHROMIUM).exists():
        missing("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *flags]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served_assistant(
    models: Path,
    root: Path,
    *options: str,
    tracker_store: str | None = None,
    endpoints: str = "",
    project: Path = REPO,
    webchat: str = "",
    browser_flags: tuple[str, ...] = (),
) -> Iterator[tuple[ServerProcess, str, Any]]:
    """The repository's assistant served by `parlez run` with its web chat (and console),
    its files and databases in `root` (or conversations in `tracker_store`, the settings of
    endpoints.yml's `tracker_store:`; more of endpoints.yml in `endpoints`), a site on another
    origin that embeds the chat, and a Chromium: (server, site url, browser). `project`: a
    copy of the assistant to serve instead, for a test that changes its files. `webchat`:
    more settings of the web chat (YAML lines at its level); `browser_flags`: Chromium's."""
    business = root / "business.yml"
    business.write_text(
        (REPO / "business.yml")
        .read_text()
        .replace("  type: file\n", f"  type: file\n  folder: {root / 'mail'}\n")
        .replace("path: calendar.db", f"path: {root / 'calendar.db'}")
    )
    tracker = tracker_store or f"type: SQL\ndialect: sqlite\ndb: {root / 'conversations.db'}"
    (root / "endpoints.yml").write_text(
        "action_endpoint:\n  actions_module: actions\ntracker_store:\n"
        + textwrap.indent(tracker, "  ")
        + "\n"
        + endpoints,
        encoding="utf-8",
    )
    with chromium(*browser_flags) as browser, pytest.MonkeyPatch.context() as env:
        env.setenv("PARLEZ_BUSINESS", str(business))
        port = free_port()
        with site(f"http://127.0.0.1:{port}") as site_url:
            write(
                root / "credentials.yml",
                (REPO / "credentials.yml")
                .read_text()
                .replace("- http://localhost:5005", f"- {site_url}")
                .replace("folder: attachments", f"folder: {root / 'uploads'}")
                .replace("  max_message_chars: 2000\n", "  max_message_chars: 2000\n" + webchat),
            )
            with parlez_run(
                project,
                "-m",
                str(models),
                "--endpoints",
                str(root / "endpoints.yml"),
                "--credentials",
                str(root / "credentials.yml"),
                *options,
                port=port,
            ) as server:
                yield server, site_url, browser

"""The reports in Debian's Chromium: customers talk to a served assistant, a viewer opens
Reports, sees them counted and the chart drawn by the uPlot that parlez serves itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from parlez.console.analytics.routes import SERIES_COLUMNS
from tests.conftest import write
from tests.connectors.webchat.browser import chromium
from tests.console.conftest import signed_in_page
from tests.server.process import add_console_user, parlez_run

VIEWER = "vera@example.com"
PASSWORD = "a long enough password"
VENDOR = Path(__file__).parents[3] / "parlez" / "console" / "static" / "vendor"


def test_a_viewer_sees_todays_conversations_counted_and_charted(
    small_project: Path, small_model: Path, tmp_path: Path
) -> None:
    if not (VENDOR / "uPlot.iife.min.js").exists():
        pytest.fail("the front-end libraries are not installed: run `make test` (npm ci)")
    project = tmp_path / "project"
    shutil.copytree(small_project, project, ignore=shutil.ignore_patterns("models"))
    (project / "models").mkdir()
    model = Path(shutil.copy(small_model, project / "models" / small_model.name))
    write(project / "analytics.yml", "timezone: UTC\n")
    endpoints = write(
        tmp_path / "endpoints.yml",
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'c.db'}\n",
    )
    add_console_user(project, endpoints, VIEWER, "viewer", PASSWORD)
    with (
        chromium() as browser,
        parlez_run(project, "-m", str(model), "--endpoints", str(endpoints)) as server,
    ):
        for sender in ("ana", "ben", "cy"):
            reply = httpx.post(
                f"{server.url}/webhooks/rest/webhook",
                json={"sender": sender, "message": "hello"},
                timeout=120,
            )
            reply.raise_for_status()
        context, page = signed_in_page(browser, server.url, VIEWER, PASSWORD)
        try:
            page.get_by_role("link", name="Reports").click()
            page.get_by_role("heading", name="Reports").wait_for()
            figures = page.get_by_label("Headline figures")
            assert "3\nconversations" in figures.inner_text()
            page.wait_for_selector("#report-chart canvas")
            assert page.get_by_text("Conversations", exact=True).first.is_visible()
            with page.expect_download() as download:
                page.get_by_role("link", name="CSV").click()
            header = Path(download.value.path()).read_text().splitlines()[0]
            assert header == ",".join(SERIES_COLUMNS)
        finally:
            context.close()

"""A real `parlez run` serving the web chat, on the small assistant or on the repository's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write
from tests.server.process import ServerProcess, parlez_run

ALLOWED = "http://allowed.test"

SMALL_CREDENTIALS = f"""
connectors.webchat.WebChatInput:
  allowed_origins: ["{ALLOWED}"]
  max_message_chars: 40
  messages_per_minute: 6
  burst: 4
  attachments:
    folder: uploads
    max_bytes: 4096
  widget:
    title: "Small </script><b>test</b>"
"""

ENDPOINTS = """
tracker_store:
  type: SQL
  dialect: sqlite
  db: conversations.db
"""


@pytest.fixture(scope="module")
def small_webchat(
    small_project: Path, small_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, ServerProcess]]:
    """The small assistant with a tight budget, small limits and one allowed origin."""
    root = tmp_path_factory.mktemp("webchat-small")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(small_project / name, root / name)
    shutil.copytree(small_project / "data", root / "data")
    write(root / "credentials.yml", SMALL_CREDENTIALS)
    write(root / "endpoints.yml", ENDPOINTS)
    with parlez_run(root, "-m", str(small_model), "--enable-api") as server:
        yield root, server

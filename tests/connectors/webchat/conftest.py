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


def webchat_project(root: Path, small_project: Path, credentials: str, endpoints: str) -> Path:
    """The small assistant in `root`, with these credentials.yml and endpoints.yml."""
    for name in ("domain.yml", "config.yml"):
        shutil.copy(small_project / name, root / name)
    shutil.copytree(small_project / "data", root / "data")
    write(root / "credentials.yml", credentials)
    write(root / "endpoints.yml", endpoints)
    return root


@pytest.fixture(scope="module")
def small_webchat(
    small_project: Path, small_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, ServerProcess]]:
    """The small assistant with a tight budget, small limits and one allowed origin."""
    root = webchat_project(
        tmp_path_factory.mktemp("webchat-small"), small_project, SMALL_CREDENTIALS, ENDPOINTS
    )
    with parlez_run(root, "-m", str(small_model), "--enable-api") as server:
        yield root, server


@pytest.fixture(scope="session")
def s3_bucket() -> Iterator[dict[str, str]]:
    """A bucket on moto's S3-compatible server on 127.0.0.1: the settings that reach it."""
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.services import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    settings = {
        "bucket": "parlez-chat-files",
        "endpoint_url": f"http://127.0.0.1:{port}",
        "region": "us-east-1",
        "access_key_id": "test-key",
        "secret_access_key": "test-secret",
    }
    boto3.client(
        "s3",
        endpoint_url=settings["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    ).create_bucket(Bucket=settings["bucket"])
    try:
        yield settings
    finally:
        server.stop()

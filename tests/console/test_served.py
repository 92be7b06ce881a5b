"""`parlez run` serves the console of any project; `parlez console add-user` makes its users."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from parlez.cli.main import main
from tests.conftest import write
from tests.server.process import parlez_run

ENDPOINTS = """
tracker_store:
  type: SQL
  dialect: sqlite
  db: conversations.db
"""


@pytest.fixture
def project(small_project: Path, tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copy(small_project / name, root / name)
    shutil.copytree(small_project / "data", root / "data")
    write(root / "endpoints.yml", ENDPOINTS)
    return root


def test_add_user_refuses_a_short_password_and_a_second_account(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARLEZ_CONSOLE_PASSWORD", "short")
    assert main(["console", "add-user", "ana@example.com", "--project", str(project)]) != 0
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setenv("PARLEZ_CONSOLE_PASSWORD", "a long enough password")
    args = ["console", "add-user", "ana@example.com", "--role", "owner", "--project", str(project)]
    assert main(args) == 0
    assert main(args) != 0
    assert "already a user" in capsys.readouterr().err


def test_parlez_run_serves_the_console_beside_the_conversations(
    project: Path, small_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEZ_CONSOLE_PASSWORD", "a long enough password")
    assert (
        main(
            ["console", "add-user", "ana@example.com", "--role", "agent", "--project", str(project)]
        )
        == 0
    )
    with parlez_run(project, "-m", str(small_model)) as server:
        assert f"{server.url}/console/" in server.log
        with httpx.Client(base_url=server.url, timeout=60) as client:
            client.post("/webhooks/rest/webhook", json={"sender": "walk-in", "message": "hello"})
            signed_in = client.post(
                "/console/login",
                data={"email": "ana@example.com", "password": "a long enough password"},
                follow_redirects=True,
            )
            assert signed_in.status_code == 200
            assert "/console/conversations/walk-in" in signed_in.text
            # An open inbox hears of the next message at once, over server-sent events.
            with client.stream("GET", "/console/inbox/live") as feed:
                lines = (line for line in feed.iter_lines() if line)
                assert next(lines) == ": connected"
                client.post("/webhooks/rest/webhook", json={"sender": "second", "message": "hi"})
                assert next(lines) == "event: change" and next(lines) == 'data: "second"'
    # The console's tables live in the conversations' database.
    assert (project / "conversations.db").is_file() and not (project / "console.db").exists()


def test_a_broken_sign_on_setting_stops_parlez_run_before_it_trains(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project / "endpoints.yml",
        ENDPOINTS + "console:\n  sso:\n    issuer: https://id.example\n    client_id: x\n",
    )
    assert main(["run", "--project", str(project)]) != 0
    error = capsys.readouterr().err
    assert "endpoints.yml:7:5" in error and "needs 'client_secret'" in error
    assert not (project / "models").exists()

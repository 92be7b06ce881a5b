"""The weekly e-mail report: due once a week at the hour analytics.yml names, last week's
figures with what changed, sent to a real SMTP server (aiosmtpd) once across processes, and
sent later when the server was away."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from parlez.console.analytics.config import WeeklyReport
from parlez.console.analytics.weekly import Week, WeeklyReporter, due_week
from parlez.console.business import read_business
from parlez.console.index import ConversationIndex
from parlez.console.roles import Role
from tests.conftest import REPO, write
from tests.console.analytics.test_report import MONDAY, six_conversations
from tests.console.conftest import Console, email
from tests.services import SMTPServer, start_smtp

pytestmark = pytest.mark.anyio

#: Monday 2026-03-09 09:00 UTC, the week after the six conversations' week
NEXT_MONDAY = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    yield from start_smtp()


def test_the_week_due_is_the_last_full_one_once_the_hour_has_passed() -> None:
    monday_8 = WeeklyReport(day=0, hour=8)
    assert due_week(NEXT_MONDAY, monday_8) == Week(date(2026, 3, 2))
    early = NEXT_MONDAY.replace(hour=7)
    assert due_week(early, monday_8) == Week(date(2026, 2, 23))  # this week's not yet
    friday = WeeklyReport(day=4, hour=17)
    assert due_week(datetime(2026, 3, 13, 18, tzinfo=UTC), friday) == Week(date(2026, 3, 2))
    assert Week(date(2026, 3, 2)).until == date(2026, 3, 8)


def reporter(console: Console, smtp: SMTPServer, to: tuple[str, ...] = ()) -> WeeklyReporter:
    project = console.app.ctx.state.project
    write(
        project / "business.yml",
        f"name: Maple Street Studio\ntimezone: UTC\nemail:\n  type: smtp\n"
        f"  host: 127.0.0.1\n  port: {smtp.port}\n  from: studio@example.com\n",
    )
    index: ConversationIndex = console.app.ctx.console_index
    index.analytics = replace(index.analytics, weekly_report=WeeklyReport(to=to))
    return WeeklyReporter(index, console.database, project, lambda: read_business(project))


async def test_last_weeks_figures_go_to_the_owners_once(
    reporting: Console, smtp: SMTPServer
) -> None:
    await six_conversations(reporting)
    weekly = reporter(reporting, smtp)
    assert await weekly.tick(NEXT_MONDAY)
    [sent] = smtp.received
    assert sent["To"] == email(Role.OWNER) and sent["From"] == "studio@example.com"
    assert "Maple Street Studio: 5 conversations, 60 % resolved without a person" in sent["Subject"]
    text = sent.get_body(("plain",)).get_content()
    assert "Conversations: 5" in text and "Booked: 1" in text
    assert '"vous vendez des bons cadeaux ?" (1 time)' in text
    html = sent.get_body(("html",)).get_content()
    assert "Resolved without a person" in html
    # Due again an hour later, and in another process: sent already.
    assert not await weekly.tick(NEXT_MONDAY.replace(hour=10))
    other = WeeklyReporter(
        ConversationIndex(weekly.index.store, weekly.database, weekly.config),
        weekly.database,
        weekly.project,
        weekly.business,
    )
    assert not await other.tick(NEXT_MONDAY.replace(hour=11))
    assert len(smtp.received) == 1


async def test_the_change_since_the_week_before_is_told(
    reporting: Console, smtp: SMTPServer
) -> None:
    await six_conversations(reporting)
    weekly = reporter(reporting, smtp, to=("boss@example.com",))
    # The week after: one conversation, where the six's week had five.
    from tests.console.analytics.test_report import said, save

    store = reporting.app.ctx.state.agent.tracker_store
    await save(store, "c9", said("hello", MONDAY + 7 * 86400, "greet"))
    message = await weekly.message(Week(date(2026, 3, 9)))
    text = message.get_body(("plain",)).get_content()
    assert message["To"] == "boss@example.com"
    assert "Conversations: 1 (-80 % on the week before)" in text
    assert "Resolved without a person: 100 % (+40 points on the week before)" in text


async def test_a_mail_server_away_is_tried_again_at_the_next_check(
    reporting: Console, smtp: SMTPServer
) -> None:
    await six_conversations(reporting)
    weekly = reporter(reporting, smtp)
    smtp.stop()
    assert not await weekly.tick(NEXT_MONDAY)  # logged, and the week given back
    smtp.start()
    assert await weekly.tick(NEXT_MONDAY.replace(minute=10))
    assert len(smtp.received) == 1


def test_the_command_prints_the_report(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "analytics.yml", "timezone: UTC\n")
    write(project / "business.yml", "name: Corner Shop\n")
    done = subprocess.run(
        [sys.executable, "-m", "parlez", "console", "weekly-report", "--project", str(project)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "Subject: Corner Shop: 0 conversations" in done.stdout
    assert "Conversations: 0" in done.stdout

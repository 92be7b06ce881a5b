"""A console whose project counts outcomes (analytics.yml), on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import write
from tests.console.conftest import Console, database_url, make_console

ANALYTICS = """\
# What the reports count (docs/analytics.md).
timezone: UTC
outcomes:
  booked: {action: action_book, sets: booking_id}
  moved: {action: action_move, sets: booking_id}
  cancelled: {action: action_cancel, clears: booking_id}
  lead: {action: action_save_lead}
conversions: [booked, lead]
knowledge_actions: [action_answer_from_kb]
labels:
  gift-cards: {keyword: [gift card, bons cadeaux]}
  handed-over: {outcome: handed_over}
"""


@pytest.fixture(params=["sqlite", "postgresql"])
async def reporting(
    small_model: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Console]:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    model = Path(shutil.copy(small_model, project / "models" / small_model.name))
    write(project / "analytics.yml", ANALYTICS)
    made = await make_console(
        model, database_url(request.param, request, tmp_path), project=project
    )
    yield made
    await made.close()

"""The reports' read model: what each conversation counts for, its outcomes and intents,
the labels analytics.yml's rules give it, the arm of each A/B test it was in, the inbox's
rating, and the weeks whose e-mail report went.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _keyed_by_day(name: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    """A table whose rows a report reads by a range of days: keyed by day first, without a
    rowid on SQLite (the rows of a range are adjacent), and indexed by conversation."""
    op.create_table(
        name,
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("sender_id", sa.String(255), primary_key=True, index=True),
        sa.Column("session", sa.Integer, primary_key=True),
        *columns,
        sqlite_with_rowid=False,
    )


def _dimensions() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("model_id", sa.String(255), nullable=False),
    ]


def upgrade() -> None:
    # The inbox shows each conversation's latest rating.
    op.add_column("console_index", sa.Column("rating", sa.Integer))
    _keyed_by_day(
        "console_analytics_conversations",
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
        *_dimensions(),
        sa.Column("incoming", sa.Integer, nullable=False),
        sa.Column("outgoing", sa.Integer, nullable=False),
        sa.Column("human_messages", sa.Integer, nullable=False),
        sa.Column("fallbacks", sa.Integer, nullable=False),
        sa.Column("knowledge_questions", sa.Integer, nullable=False),
        sa.Column("knowledge_misses", sa.Integer, nullable=False),
        sa.Column("handed_over", sa.Boolean, nullable=False),
        sa.Column("human", sa.Boolean, nullable=False),
        sa.Column("agent", sa.String(255), nullable=False),
        sa.Column("first_response_seconds", sa.Float),
        sa.Column("resolution_seconds", sa.Float),
        sa.Column("rating", sa.Integer),
        sa.Column("resolved", sa.Boolean, nullable=False),
        sa.Column("converted", sa.Boolean, nullable=False),
    )
    op.create_table(
        "console_analytics_counts",
        # Kind, then day: a report's intents of a range of days are adjacent rows, and so
        # are all the labels a label filter looks through.
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("sender_id", sa.String(255), primary_key=True, index=True),
        sa.Column("session", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("detail", sa.String(255), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        *_dimensions(),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "console_weekly_reports",
        sa.Column("week", sa.String(10), primary_key=True),
        sa.Column("sent_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_weekly_reports")
    op.drop_table("console_analytics_counts")
    op.drop_table("console_analytics_conversations")
    op.drop_column("console_index", "rating")

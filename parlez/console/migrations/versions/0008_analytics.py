"""The reports' read model: what each conversation counts for, its outcomes and intents, and
the labels analytics.yml's rules give it, and the arm of each A/B test it was in.

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


def _counted(name: str) -> None:
    op.create_table(
        name,
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("session", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("day", sa.String(10), nullable=False, index=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("model_id", sa.String(255), nullable=False),
    )


def upgrade() -> None:
    op.create_table(
        "console_analytics_conversations",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("session", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("day", sa.String(10), nullable=False, index=True),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("model_id", sa.String(255), nullable=False),
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
    _counted("console_analytics_outcomes")
    _counted("console_analytics_intents")
    op.create_table(
        "console_analytics_arms",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("session", sa.Integer, primary_key=True),
        sa.Column("experiment", sa.String(255), primary_key=True),
        sa.Column("arm", sa.String(255), nullable=False),
        sa.Column("day", sa.String(10), nullable=False, index=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("model_id", sa.String(255), nullable=False),
    )
    op.create_table(
        "console_auto_labels",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("label", sa.String(64), primary_key=True, index=True),
    )


def downgrade() -> None:
    op.drop_table("console_auto_labels")
    op.drop_table("console_analytics_arms")
    op.drop_table("console_analytics_intents")
    op.drop_table("console_analytics_outcomes")
    op.drop_table("console_analytics_conversations")

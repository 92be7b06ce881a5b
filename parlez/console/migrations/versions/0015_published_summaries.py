"""The conversations' summaries published to the event broker.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_published_summaries",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("session", sa.Integer, primary_key=True),
        sa.Column("last_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_published_summaries")

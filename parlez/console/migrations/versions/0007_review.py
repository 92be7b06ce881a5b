"""The review queue: the turns worth a designer's look (derived by the index), and the turns
reviewed.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_review_turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intent", sa.String(255), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("reasons", sa.String(255), nullable=False),
    )
    op.create_table(
        "console_reviewed_turns",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("at", sa.Float, primary_key=True),
        sa.Column("by", sa.String(255), nullable=False),
        sa.Column("done_at", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_reviewed_turns")
    op.drop_table("console_review_turns")

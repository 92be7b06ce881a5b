"""Internal notes with @mentions, and canned replies.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "console_mentions",
        sa.Column(
            "note_id",
            sa.Integer,
            sa.ForeignKey("console_notes.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_email", sa.String(255), primary_key=True, index=True),
        sa.Column("seen", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "console_canned_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shortcut", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("console_canned_replies", "console_mentions", "console_notes"):
        op.drop_table(table)

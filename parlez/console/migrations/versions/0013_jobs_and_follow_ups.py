"""The jobs run later or again (parlez/jobs), and the follow-up e-mails sent after chats.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parlez_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task", sa.String(128), nullable=False),
        sa.Column("arguments", sa.Text, nullable=False, server_default="{}"),
        sa.Column("key", sa.String(255), unique=True),
        sa.Column("run_at", sa.Float, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("leased_until", sa.Float),
        sa.Column("failed_at", sa.Float),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "console_follow_ups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("session", sa.Integer, nullable=False),
        sa.Column("contact_id", sa.Integer, nullable=False, index=True),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("sent_at", sa.Float),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.UniqueConstraint("rule", "sender_id", "session", name="uq_follow_up_once"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("console_follow_ups")
    op.drop_table("parlez_jobs")

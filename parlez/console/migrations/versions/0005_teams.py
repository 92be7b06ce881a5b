"""Teams: groups of colleagues a conversation can be assigned to; a customer's other
conversations found by the name the inbox shows.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_teams",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "console_team_members",
        sa.Column(
            "team",
            sa.String(64),
            sa.ForeignKey("console_teams.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_email", sa.String(255), primary_key=True, index=True),
    )
    with op.batch_alter_table("console_conversations") as table:
        table.add_column(sa.Column("team", sa.String(64), nullable=True))
        table.create_index("ix_console_conversations_team", ["team"])
    op.create_index("ix_console_index_customer", "console_index", ["customer"])


def downgrade() -> None:
    op.drop_index("ix_console_index_customer", "console_index")
    with op.batch_alter_table("console_conversations") as table:
        table.drop_index("ix_console_conversations_team")
        table.drop_column("team")
    op.drop_table("console_team_members")
    op.drop_table("console_teams")

"""What the business's own pages report through the web chat: visits, purchases.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_tracked",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("order_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("once", sa.String(255), unique=True),
    )


def downgrade() -> None:
    op.drop_table("console_tracked")

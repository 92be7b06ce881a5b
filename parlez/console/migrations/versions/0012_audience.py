"""What was last sent to the e-mail marketing platform for each address.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_audience_members",
        sa.Column("email", sa.String(255), primary_key=True),
        sa.Column("contact_id", sa.Integer, nullable=False, index=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
        sa.Column("consent_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("synced_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_audience_members")

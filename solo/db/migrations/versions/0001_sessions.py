"""sessions

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from solo.db.models import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_sessions_owner_created", "sessions", ["owner", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_owner_created", table_name="sessions")
    op.drop_table("sessions")

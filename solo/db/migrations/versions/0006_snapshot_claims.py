"""snapshot claims and pending deletions: no object outlives its session

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from solo.db.models import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("claim", sa.String(32), nullable=True))
    op.create_table(
        "pending_deletions",
        sa.Column("prefix", sa.String(1024), primary_key=True),
        sa.Column("not_before", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_pending_deletions_not_before", "pending_deletions", ["not_before"])


def downgrade() -> None:
    op.drop_index("ix_pending_deletions_not_before", table_name="pending_deletions")
    op.drop_table("pending_deletions")
    op.execute("DELETE FROM snapshots WHERE claim IS NOT NULL")
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("claim")

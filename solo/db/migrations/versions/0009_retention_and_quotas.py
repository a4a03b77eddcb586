"""snapshots can be named and pinned; each user's usage, and when each session's
snapshots are due for the retention policy

Revision ID: 0009
Revises: 0008
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

from solo.db.models import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_USAGE = """
INSERT INTO quota_usage (owner, sessions, bytes)
SELECT sessions.owner, COUNT(*), SUM(sessions.size) + COALESCE((
    SELECT SUM(snapshots.size) FROM snapshots
    JOIN sessions AS theirs ON theirs.id = snapshots.session_id
    WHERE theirs.owner = sessions.owner), 0)
FROM sessions GROUP BY sessions.owner
"""
_LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def upgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("name", sa.String(400), nullable=True))
        batch.add_column(
            sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "quota_usage",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("bytes >= 0", name="quota_usage_bytes_not_negative"),
    )
    op.create_table(
        "retention_due",
        sa.Column(
            "session_id",
            sa.Uuid(),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("due_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_retention_due_due_at", "retention_due", ["due_at"])
    op.execute(_USAGE)
    # Every session with snapshots is due at once: the policy applies to what exists.
    due = sa.table("retention_due", sa.column("session_id"), sa.column("due_at"))
    snapshots = sa.table("snapshots", sa.column("session_id"))
    op.execute(
        sa.insert(due).from_select(
            ["session_id", "due_at"],
            sa.select(snapshots.c.session_id, sa.literal(_LONG_AGO, UtcDateTime())).distinct(),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_retention_due_due_at", table_name="retention_due")
    op.drop_table("retention_due")
    op.drop_table("quota_usage")
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("pinned")
        batch.drop_column("name")

"""telemetry events and sessions.last_seen_at

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from solo.db.models import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", UtcDateTime(), nullable=True))
    op.create_table(
        "telemetry_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "session_id",
            sa.Uuid(),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_telemetry_session", "telemetry_events", ["session_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_telemetry_session", table_name="telemetry_events")
    op.drop_table("telemetry_events")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("last_seen_at")

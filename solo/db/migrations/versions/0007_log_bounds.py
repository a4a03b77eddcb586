"""a session's head counts what replaying its log costs and how many bytes the log keeps

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_KEPT_BYTES = """
UPDATE sessions SET kept_bytes =
    COALESCE((SELECT SUM(LENGTH(ops)) FROM changes WHERE changes.session_id = sessions.id), 0)
  + COALESCE((SELECT SUM(LENGTH(state)) FROM checkpoints
              WHERE checkpoints.session_id = sessions.id), 0)
"""


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        # The bytes of ops logged since the checkpoint were a lower bound of the work of
        # replaying them: they carry over as the replay cost.
        batch.alter_column("log_bytes", new_column_name="replay_cost")
        batch.add_column(
            sa.Column("kept_bytes", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(_KEPT_BYTES)
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("kept_bytes", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("kept_bytes")
        batch.alter_column("replay_cost", new_column_name="log_bytes")

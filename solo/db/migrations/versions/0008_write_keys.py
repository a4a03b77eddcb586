"""Idempotency-Keys on every write: recorded with the change they made

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from solo.db.models import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("expires_at", existing_type=UtcDateTime(), nullable=True)
        batch.add_column(sa.Column("session_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("rev", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_idempotency_keys_session_id_sessions",
            "sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index("ix_idempotency_session_rev", "idempotency_keys", ["session_id", "rev"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_session_rev", table_name="idempotency_keys")
    op.execute("DELETE FROM idempotency_keys WHERE expires_at IS NULL")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint("fk_idempotency_keys_session_id_sessions", type_="foreignkey")
        batch.drop_column("rev")
        batch.drop_column("session_id")
        batch.alter_column("expires_at", existing_type=UtcDateTime(), nullable=False)

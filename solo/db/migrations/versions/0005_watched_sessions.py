"""sessions.watched_until: until when some server streams a session's revisions

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from solo.db.models import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("watched_until", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("watched_until")

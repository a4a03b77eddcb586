"""sessions keep a head; states live as checkpoints plus a log of changes

Revision ID: 0004
Revises: 0003
"""

import json

import orjson
import sqlalchemy as sa
from alembic import op

from solo.db.models import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_sessions = sa.table(
    "sessions",
    sa.column("id", sa.Uuid()),
    sa.column("rev", sa.Integer()),
    sa.column("state", sa.JSON()),
    sa.column("size", sa.Integer()),
    sa.column("checkpoint_rev", sa.Integer()),
    sa.column("log_bytes", sa.Integer()),
)
_changes = sa.table(
    "changes",
    sa.column("session_id", sa.Uuid()),
    sa.column("rev", sa.Integer()),
    sa.column("ops", sa.LargeBinary()),
)
_checkpoints = sa.table(
    "checkpoints",
    sa.column("session_id", sa.Uuid()),
    sa.column("rev", sa.Integer()),
    sa.column("state", sa.LargeBinary()),
)


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column(
            "session_id",
            sa.Uuid(),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rev", sa.Integer(), primary_key=True),
        sa.Column("state", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "changes",
        sa.Column(
            "session_id",
            sa.Uuid(),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rev", sa.Integer(), primary_key=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("ops", sa.LargeBinary(), nullable=True),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("size", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("checkpoint_rev", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("log_bytes", sa.Integer(), nullable=True))
    _carry_states_into_checkpoints(op.get_bind())
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("size", nullable=False)
        batch.alter_column("checkpoint_rev", nullable=False)
        batch.alter_column("log_bytes", nullable=False)
        batch.drop_column("state")


def _carry_states_into_checkpoints(connection) -> None:
    """Every existing session's state becomes the checkpoint of its current rev."""
    rows = connection.execute(sa.select(_sessions.c.id, _sessions.c.rev, _sessions.c.state))
    for session_id, rev, state in rows.all():
        if isinstance(state, str):
            state = json.loads(state)
        encoded = orjson.dumps(state)
        connection.execute(
            sa.insert(_checkpoints).values(session_id=session_id, rev=rev, state=encoded)
        )
        connection.execute(
            sa.update(_sessions)
            .where(_sessions.c.id == session_id)
            .values(size=len(encoded), checkpoint_rev=rev, log_bytes=0)
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("state", sa.JSON(), nullable=True))
    _fold_log_into_states(op.get_bind())
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("state", nullable=False)
        batch.drop_column("log_bytes")
        batch.drop_column("checkpoint_rev")
        batch.drop_column("size")
    op.drop_table("changes")
    op.drop_table("checkpoints")


def _fold_log_into_states(connection) -> None:
    """Each session's state at its rev: its newest checkpoint with the log replayed."""
    from solo.domain.patch import apply_patch

    heads = connection.execute(
        sa.select(_sessions.c.id, _sessions.c.rev, _sessions.c.checkpoint_rev)
    ).all()
    for session_id, rev, checkpoint_rev in heads:
        data = connection.execute(
            sa.select(_checkpoints.c.state).where(
                _checkpoints.c.session_id == session_id, _checkpoints.c.rev == checkpoint_rev
            )
        ).scalar_one()
        state = orjson.loads(data)
        logged = connection.execute(
            sa.select(_changes.c.ops)
            .where(
                _changes.c.session_id == session_id,
                _changes.c.rev > checkpoint_rev,
                _changes.c.rev <= rev,
            )
            .order_by(_changes.c.rev)
        )
        for (ops,) in logged:
            state = apply_patch(state, 0, orjson.loads(ops), checked=False).state
        connection.execute(
            sa.update(_sessions).where(_sessions.c.id == session_id).values(state=state)
        )

"""relay_sources.stored_seq: the highest seq stored, so an append with no gap open skips the
query for records stored beyond acked_seq.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("relay_sources") as batch_op:
        batch_op.add_column(
            sa.Column("stored_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE relay_sources SET stored_seq = COALESCE(("
        "SELECT MAX(event_log.seq) FROM event_log"
        " WHERE event_log.event_id = relay_sources.event_id"
        " AND event_log.source = relay_sources.source), 0)"
    )
    op.execute("UPDATE relay_sources SET stored_seq = acked_seq WHERE stored_seq < acked_seq")


def downgrade() -> None:
    with op.batch_alter_table("relay_sources") as batch_op:
        batch_op.drop_column("stored_seq")

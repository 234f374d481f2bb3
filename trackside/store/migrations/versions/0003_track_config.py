"""Track-side configuration: an event's timing loops and its race-control log source.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_log_sources",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("penalty_rules", sa.Text(), nullable=False),
        sa.Column("void_statuses", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("polls", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_control_log_sources_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_control_log_sources")),
    )
    op.create_table(
        "event_loops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("decoder_id", sa.BigInteger(), nullable=False),
        sa.Column("loop_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_loops_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_loops")),
        sa.UniqueConstraint("event_id", "name", name="uq_event_loops_event_id_name"),
    )
    with op.batch_alter_table("event_loops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_loops_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_loops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_loops_event_id"))

    op.drop_table("event_loops")
    op.drop_table("control_log_sources")

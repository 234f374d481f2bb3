"""Telemetry: API tokens (digests only) and the buckets points were written to.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telemetry_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_telemetry_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_telemetry_tokens_token_digest")),
    )
    with op.batch_alter_table("telemetry_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telemetry_tokens_user_id"), ["user_id"], unique=False)
    op.create_table(
        "telemetry_buckets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("org", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_telemetry_buckets_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_telemetry_buckets")),
    )


def downgrade() -> None:
    op.drop_table("telemetry_buckets")
    with op.batch_alter_table("telemetry_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telemetry_tokens_user_id"))
    op.drop_table("telemetry_tokens")

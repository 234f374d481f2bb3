"""iRacing: connected accounts (sealed tokens), pending OAuth starts, synced sessions and
their participants.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iracing_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("cust_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scope", sa.String(length=200), nullable=True),
        sa.Column("needs_reconnect", sa.Boolean(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_iracing_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iracing_accounts")),
    )
    op.create_index(
        op.f("ix_iracing_accounts_user_id"), "iracing_accounts", ["user_id"], unique=True
    )
    op.create_table(
        "iracing_auth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("verifier", sa.Text(), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_iracing_auth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_iracing_auth_states")),
    )
    op.create_index(
        op.f("ix_iracing_auth_states_user_id"), "iracing_auth_states", ["user_id"], unique=False
    )
    op.create_table(
        "iracing_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subsession_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("session_type", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("league_id", sa.BigInteger(), nullable=True),
        sa.Column("league_name", sa.String(length=200), nullable=True),
        sa.Column("season_id", sa.BigInteger(), nullable=True),
        sa.Column("session_name", sa.String(length=200), nullable=True),
        sa.Column("track_name", sa.String(length=200), nullable=True),
        sa.Column("car_name", sa.String(length=200), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_iracing_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iracing_sessions")),
        sa.UniqueConstraint("user_id", "subsession_id", name=op.f("uq_iracing_sessions_user_id")),
    )
    op.create_index(
        op.f("ix_iracing_sessions_user_id"), "iracing_sessions", ["user_id"], unique=False
    )
    op.create_table(
        "iracing_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("cust_id", sa.BigInteger(), nullable=True),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("car_number", sa.String(length=20), nullable=True),
        sa.Column("car_class", sa.String(length=200), nullable=True),
        sa.Column("laps_completed", sa.Integer(), nullable=True),
        sa.Column("best_lap_time", sa.Float(), nullable=True),
        sa.Column("incidents", sa.Integer(), nullable=True),
        sa.Column("finish_position", sa.Integer(), nullable=True),
        sa.Column("starting_position", sa.Integer(), nullable=True),
        sa.Column("total_laps", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["iracing_sessions.id"],
            name=op.f("fk_iracing_participants_session_id_iracing_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iracing_participants")),
    )
    op.create_index(
        op.f("ix_iracing_participants_session_id"),
        "iracing_participants",
        ["session_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_iracing_participants_session_id"), table_name="iracing_participants")
    op.drop_table("iracing_participants")
    op.drop_index(op.f("ix_iracing_sessions_user_id"), table_name="iracing_sessions")
    op.drop_table("iracing_sessions")
    op.drop_index(op.f("ix_iracing_auth_states_user_id"), table_name="iracing_auth_states")
    op.drop_table("iracing_auth_states")
    op.drop_index(op.f("ix_iracing_accounts_user_id"), table_name="iracing_accounts")
    op.drop_table("iracing_accounts")

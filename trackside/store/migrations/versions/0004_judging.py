"""Manual timing: judges, competitions (manual sessions of an event), teams, time records.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "judges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_judges_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_judges_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judges")),
        sa.UniqueConstraint("event_id", "user_id", name="uq_judges_event_id_user_id"),
    )
    with op.batch_alter_table("judges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_judges_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_judges_user_id"), ["user_id"], unique=False)

    op.create_table(
        "competitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scheduled_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_competitions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_competitions_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitions")),
    )
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competitions_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_competitions_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_teams_competition_id_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"], ["judges.id"], name=op.f("fk_teams_judge_id_judges"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teams_competition_id"), ["competition_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_teams_judge_id"), ["judge_id"], unique=False)

    op.create_table(
        "time_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("phone_timestamp", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["judges.id"],
            name=op.f("fk_time_records_judge_id_judges"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_time_records_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_records")),
        sa.UniqueConstraint("team_id", "record_id", name="uq_time_records_team_id_record_id"),
    )
    with op.batch_alter_table("time_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_time_records_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("time_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_time_records_team_id"))

    op.drop_table("time_records")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_judge_id"))
        batch_op.drop_index(batch_op.f("ix_teams_competition_id"))

    op.drop_table("teams")
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competitions_session_id"))
        batch_op.drop_index(batch_op.f("ix_competitions_event_id"))

    op.drop_table("competitions")
    with op.batch_alter_table("judges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_judges_user_id"))
        batch_op.drop_index(batch_op.f("ix_judges_event_id"))

    op.drop_table("judges")

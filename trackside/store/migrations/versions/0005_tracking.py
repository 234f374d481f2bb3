"""Location tracking: devices, tracked participants, sharing, event tracking settings,
checkpoints and position fixes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:05:09.244590
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "location_fixes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_key", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("altitude", sa.Float(), nullable=True),
        sa.Column("speed", sa.Float(), nullable=True),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_location_fixes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_fixes")),
        sa.UniqueConstraint(
            "user_id", "device_key", "time", name="uq_location_fixes_user_id_device_key_time"
        ),
    )
    with op.batch_alter_table("location_fixes", schema=None) as batch_op:
        batch_op.create_index("ix_location_fixes_time", ["time"], unique=False)
        batch_op.create_index("ix_location_fixes_user_id_time", ["user_id", "time"], unique=False)

    op.create_table(
        "tracking_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tracking_devices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_devices")),
        sa.UniqueConstraint("device_id", name=op.f("uq_tracking_devices_device_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tracking_devices_token_hash")),
    )
    with op.batch_alter_table("tracking_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracking_devices_user_id"), ["user_id"], unique=False)

    op.create_table(
        "tracking_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sharing_paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tracking_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_tracking_profiles")),
    )
    op.create_table(
        "tracking_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lat1", sa.Float(), nullable=False),
        sa.Column("lon1", sa.Float(), nullable=False),
        sa.Column("lat2", sa.Float(), nullable=True),
        sa.Column("lon2", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_tracking_checkpoints_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_checkpoints")),
        sa.UniqueConstraint("event_id", "name", name="uq_tracking_checkpoints_event_id_name"),
    )
    with op.batch_alter_table("tracking_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_checkpoints_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "tracking_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_tracking_participants_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tracking_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_participants")),
        sa.UniqueConstraint(
            "event_id", "user_id", name="uq_tracking_participants_event_id_user_id"
        ),
    )
    with op.batch_alter_table("tracking_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_participants_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_participants_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "tracking_settings",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("map_public", sa.Boolean(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_tracking_settings_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_tracking_settings")),
    )


def downgrade() -> None:

    op.drop_table("tracking_settings")
    with op.batch_alter_table("tracking_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_participants_user_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_participants_event_id"))

    op.drop_table("tracking_participants")
    with op.batch_alter_table("tracking_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_checkpoints_event_id"))

    op.drop_table("tracking_checkpoints")
    op.drop_table("tracking_profiles")
    with op.batch_alter_table("tracking_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_devices_user_id"))

    op.drop_table("tracking_devices")
    with op.batch_alter_table("location_fixes", schema=None) as batch_op:
        batch_op.drop_index("ix_location_fixes_user_id_time")
        batch_op.drop_index("ix_location_fixes_time")

    op.drop_table("location_fixes")

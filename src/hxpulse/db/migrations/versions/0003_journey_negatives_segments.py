"""journey, negatives, segments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:17:08.679274
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hxpulse.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "pulse_negatives",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("component", sa.String(length=20), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("occurred_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_pulse_negatives_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_negatives")),
        sa.UniqueConstraint("message_id", name=op.f("uq_pulse_negatives_message_id")),
    )
    with op.batch_alter_table("pulse_negatives", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pulse_negatives_customer_open", ["customer_id", "resolved_at"], unique=False
        )

    op.create_table(
        "stage_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("from_stage", sa.String(length=40), nullable=True),
        sa.Column("to_stage", sa.String(length=40), nullable=False),
        sa.Column("changed_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_stage_changes_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
    )
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.create_index("ix_stage_changes_changed_at", ["changed_at"], unique=False)
        batch_op.create_index(
            "ix_stage_changes_customer_changed", ["customer_id", "changed_at"], unique=False
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_return_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("open_negatives", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("stage", sa.String(length=40), server_default="prospect", nullable=False)
        )
        batch_op.add_column(
            sa.Column("stage_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("detractor", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_customers_last_return_at"), ["last_return_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_stage"), ["stage"], unique=False)

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_type_occurred", ["type", "occurred_at", "customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_type_occurred")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_stage"))
        batch_op.drop_index(batch_op.f("ix_customers_last_return_at"))
        batch_op.drop_column("detractor")
        batch_op.drop_column("stage_at")
        batch_op.drop_column("stage")
        batch_op.drop_column("open_negatives")
        batch_op.drop_column("last_return_at")

    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_changes_customer_changed")
        batch_op.drop_index("ix_stage_changes_changed_at")

    op.drop_table("stage_changes")
    with op.batch_alter_table("pulse_negatives", schema=None) as batch_op:
        batch_op.drop_index("ix_pulse_negatives_customer_open")

    op.drop_table("pulse_negatives")
    op.drop_table("segments")

"""rules: every firing of a rule, with its cause

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hxpulse.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = hxpulse.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rule_firings",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("trigger_kind", sa.String(length=10), nullable=False),
        sa.Column("trigger_name", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column(
            "actions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("fired_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_firings")),
        sa.UniqueConstraint("key", name=op.f("uq_rule_firings_key")),
    )
    op.create_index(
        "ix_rule_firings_rule_customer",
        "rule_firings",
        ["rule", "customer_id", "fired_at"],
        unique=False,
    )
    op.create_index(
        "ix_rule_firings_customer", "rule_firings", ["customer_id", "fired_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_rule_firings_customer", table_name="rule_firings")
    op.drop_index("ix_rule_firings_rule_customer", table_name="rule_firings")
    op.drop_table("rule_firings")

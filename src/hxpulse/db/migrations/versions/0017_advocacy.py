"""advocacy: referral codes and referrals

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hxpulse.db.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = hxpulse.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referral_codes",
        sa.Column("customer_id", ID, autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_referral_codes_customer_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
    )  # fmt: skip
    op.create_table(
        "referrals",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("referrer_id", ID, nullable=False),
        sa.Column("referred_id", ID, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["referrer_id"], ["customers.id"],
                                name=op.f("fk_referrals_referrer_id_customers")),
        sa.ForeignKeyConstraint(["referred_id"], ["customers.id"],
                                name=op.f("fk_referrals_referred_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )  # fmt: skip
    op.create_index("ix_referrals_referrer_id", "referrals", ["referrer_id"])
    op.create_index("uq_referrals_referred_attributed", "referrals", ["referred_id"], unique=True,
                    postgresql_where=sa.text("status = 'attributed'"),
                    sqlite_where=sa.text("status = 'attributed'"))  # fmt: skip


def downgrade() -> None:
    op.drop_index("uq_referrals_referred_attributed", table_name="referrals")
    op.drop_index("ix_referrals_referrer_id", table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("referral_codes")

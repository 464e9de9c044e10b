"""offers and their exposures

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hxpulse.db.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = hxpulse.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=True),
        sa.Column("eligibility", hxpulse.db.base.JSONData, nullable=False),
        sa.Column("valid_from", WHEN, nullable=True),
        sa.Column("valid_until", WHEN, nullable=True),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("key", name=op.f("uq_offers_key")),
    )
    op.create_table(
        "offer_exposures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("shown_at", WHEN, nullable=False),
        sa.Column("arm", sa.String(length=10), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("context", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("response", sa.String(length=10), nullable=True),
        sa.Column("responded_at", WHEN, nullable=True),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_offer_exposures_customer_id_customers")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"],
                                name=op.f("fk_offer_exposures_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_exposures")),
    )  # fmt: skip
    op.create_table(
        "offer_arms",
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("shown", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"],
                                name=op.f("fk_offer_arms_offer_id_offers")),
        sa.PrimaryKeyConstraint("offer_id", "segment", name=op.f("pk_offer_arms")),
    )  # fmt: skip
    op.create_index("ix_offer_exposures_customer_id_shown_at", "offer_exposures",
                    ["customer_id", "shown_at"])  # fmt: skip
    op.create_index("ix_offer_exposures_offer_id", "offer_exposures", ["offer_id"])
    op.create_index("ix_offer_exposures_unanswered", "offer_exposures", ["shown_at"],
                    postgresql_where=sa.text("response IS NULL"),
                    sqlite_where=sa.text("response IS NULL"))  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_offer_exposures_unanswered", table_name="offer_exposures")
    op.drop_index("ix_offer_exposures_offer_id", table_name="offer_exposures")
    op.drop_index("ix_offer_exposures_customer_id_shown_at", table_name="offer_exposures")
    op.drop_table("offer_arms")
    op.drop_table("offer_exposures")
    op.drop_table("offers")

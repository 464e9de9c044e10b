"""fitted models and customer lifetime values

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hxpulse.db.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = hxpulse.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fitted_models",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("fitted_at", WHEN, nullable=False),
        sa.Column("meta", hxpulse.db.base.JSONData, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_fitted_models")),
    )
    op.create_table(
        "customer_values",
        sa.Column("customer_id", ID, autoincrement=False, nullable=False),
        sa.Column("expected_purchases", sa.Float(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_spend", sa.Float(), nullable=True),
        sa.Column("clv", sa.Float(), nullable=False),
        sa.Column("first_purchase", sa.Float(), nullable=True),
        sa.Column("fitted_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_customer_values_customer_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_values")),
    )  # fmt: skip
    op.create_index("ix_customer_values_clv", "customer_values", ["clv"])


def downgrade() -> None:
    op.drop_index("ix_customer_values_clv", table_name="customer_values")
    op.drop_table("customer_values")
    op.drop_table("fitted_models")

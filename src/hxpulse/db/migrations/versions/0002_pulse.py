"""pulse sums on customers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:33:50.364678
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pulse_key", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("pulse_investments", sa.Float(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("pulse_returns", sa.Float(), server_default="0", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_customers_pulse_key"), ["pulse_key"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_pulse_key"))
        batch_op.drop_column("pulse_returns")
        batch_op.drop_column("pulse_investments")
        batch_op.drop_column("pulse_key")

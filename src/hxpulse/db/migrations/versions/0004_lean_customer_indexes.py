"""fewer indexes on customers: every event updates its customer's row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("merged_into_id IS NOT NULL")
# derived rows written in the ingest transaction before their customer's row is updated: checked
# at commit, so that the check's share lock does not come before the update (PostgreSQL)
DEFERRED = ("stage_changes", "pulse_negatives")


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_stage")
        batch_op.drop_index("ix_customers_last_return_at")
        batch_op.drop_index("ix_customers_merged_into_id")
        batch_op.create_index(
            "ix_customers_merged_into_id",
            ["merged_into_id"],
            unique=False,
            postgresql_where=WHERE,
            sqlite_where=WHERE,
        )

    if op.get_bind().dialect.name == "postgresql":
        for table in DEFERRED:
            op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT fk_{table}_customer_id_customers"
                       " DEFERRABLE INITIALLY DEFERRED")  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in DEFERRED:
            op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT fk_{table}_customer_id_customers"
                       " NOT DEFERRABLE")  # fmt: skip
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_merged_into_id")
        batch_op.create_index("ix_customers_merged_into_id", ["merged_into_id"], unique=False)
        batch_op.create_index("ix_customers_last_return_at", ["last_return_at"], unique=False)
        batch_op.create_index("ix_customers_stage", ["stage"], unique=False)

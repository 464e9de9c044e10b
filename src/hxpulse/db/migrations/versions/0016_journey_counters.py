"""journey counters: what the stage replay knows at each customer's latest evaluated moment

`customers.journey_counters` lets the live path decide a stage from stored state plus the
batch instead of re-reading the customer's history. Existing customers have none: each is
replayed in full once, at its next stage-relevant event (or by `hxpulse pulse --rebuild`),
and has counters from then on.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("journey_counters", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("journey_counters")

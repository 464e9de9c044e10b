"""the moment each customer was last seen, stored on the row, for the list's last-activity sort

`customers.last_seen_at` is the latest `occurred_at` of the customer's own events (none: null;
a merged-away customer's events are the survivor's). The list sorted by last activity then
reads one index in order instead of a `max(occurred_at)` seek per customer. The ingest keeps
it (pulse/live.py, in the customer update it already makes), merges give the survivor the
later of the two. Existing rows are filled here in one statement.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hxpulse.db.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_customers_last_seen_at_id"
# every customer row, merged-away ones included (they have no events left: null); one index
# seek per customer on ix_events_customer_occurred, the same statement on both databases
BACKFILL = (
    "UPDATE customers SET last_seen_at ="
    " (SELECT max(e.occurred_at) FROM events e WHERE e.customer_id = customers.id)"
)


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("last_seen_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.execute(BACKFILL)
    op.create_index(INDEX, "customers", ["last_seen_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("last_seen_at")

"""feeds: the messages of the live feeds (customer and team)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hxpulse.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = hxpulse.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed_messages",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_feed_messages_key")),
    )
    op.create_index(
        "ix_feed_messages_scope_customer_id",
        "feed_messages",
        ["scope", "customer_id", "id"],
        unique=False,
    )
    op.create_index("ix_feed_messages_scope_id", "feed_messages", ["scope", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_feed_messages_scope_id", table_name="feed_messages")
    op.drop_index("ix_feed_messages_scope_customer_id", table_name="feed_messages")
    op.drop_table("feed_messages")

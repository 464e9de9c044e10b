"""Table: the messages of the live feeds, one row per message, its id the SSE event id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime

SCOPES = ("customer", "team")


class FeedMessage(Base):
    """A message on a feed: a customer's own (`scope` customer, `customer_id` set) or the team
    feed (`scope` team; `team` names the team, or None for everyone).

    `id` is the SSE event id: a subscriber reconnecting with `Last-Event-ID` gets every message
    after it. `key` is the outbox action's key: a delivery tried twice publishes once.
    """

    __tablename__ = "feed_messages"
    __table_args__ = (
        Index("ix_feed_messages_scope_customer_id", "scope", "customer_id", "id"),
        Index("ix_feed_messages_scope_id", "scope", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[int | None] = mapped_column(BigId)
    team: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSONData)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

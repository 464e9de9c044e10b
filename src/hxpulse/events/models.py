"""Table: events (touchpoints)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime

CHANNELS = ("web", "app", "email", "social", "phone", "chat", "store", "other")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_occurred", "customer_id", "occurred_at"),
        # segments' time-window conditions ("bought twice in the last 90 days")
        Index("ix_events_type_occurred", "type", "occurred_at", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(10))
    type: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    department: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(20))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONData)


EVENT_COLUMNS = (
    "message_id", "customer_id", "kind", "type", "name", "channel", "department",
    "occurred_at", "received_at", "value", "currency", "source", "properties", "context",
)  # fmt: skip

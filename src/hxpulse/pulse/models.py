"""Table: negative experiences (complaints, detractor answers, failed deliveries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, UTCDateTime


class PulseNegative(Base):
    """A negative experience: counts `negative_multiplier` times its weight until resolved."""

    __tablename__ = "pulse_negatives"
    __table_args__ = (Index("ix_pulse_negatives_customer_open", "customer_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    component: Mapped[str] = mapped_column(String(20))
    weight: Mapped[float] = mapped_column(Float)  # the plain (1x) weight, negative
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))  # the resolution's message id

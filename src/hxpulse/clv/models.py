"""Table: each customer's lifetime value as of the last `hxpulse fit clv`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, UTCDateTime


class CustomerValue(Base):
    """Kept apart from `customers`: the live path rewrites customer rows batch after batch, and
    every byte on them costs it (see pulse.live)."""

    __tablename__ = "customer_values"
    __table_args__ = (Index("ix_customer_values_clv", "clv"),)

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id"), primary_key=True, autoincrement=False
    )
    expected_purchases: Mapped[float] = mapped_column(Float)  # in the next 12 months
    p_alive: Mapped[float] = mapped_column(Float)
    expected_spend: Mapped[float | None] = mapped_column(Float, nullable=True)  # per purchase
    clv: Mapped[float] = mapped_column(Float)
    first_purchase: Mapped[float | None] = mapped_column(Float, nullable=True)  # its value
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime)

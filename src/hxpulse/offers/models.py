"""Tables: the offer catalogue and every offer shown (an exposure) with its response."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime


class Offer(Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # product, content, incentive, access
    description: Mapped[str] = mapped_column(Text, default="")
    item: Mapped[str | None] = mapped_column(String(200), nullable=True)  # what a purchase names
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONData)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Exposure(Base):
    """An offer shown to a customer: by the model or to the holdout, and what they did."""

    __tablename__ = "offer_exposures"
    __table_args__ = (
        Index("ix_offer_exposures_customer_id_shown_at", "customer_id", "shown_at"),
        Index("ix_offer_exposures_offer_id", "offer_id"),
        Index("ix_offer_exposures_unanswered", "shown_at",
              postgresql_where=text("response IS NULL"), sqlite_where=text("response IS NULL")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("offers.id"))
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)
    arm: Mapped[str] = mapped_column(String(10))  # model or holdout
    segment: Mapped[str] = mapped_column(String(40), default="")  # the bandit's segment
    context: Mapped[str | None] = mapped_column(String(200), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    response: Mapped[str | None] = mapped_column(String(10), nullable=True)  # accepted, …
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revenue: Mapped[float | None] = mapped_column(Float, nullable=True)


class OfferArm(Base):
    """The bandit's counts: how often an offer was shown to a segment and accepted there."""

    __tablename__ = "offer_arms"

    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("offers.id"), primary_key=True)
    segment: Mapped[str] = mapped_column(String(40), primary_key=True)
    shown: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)

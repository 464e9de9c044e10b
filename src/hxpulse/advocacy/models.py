"""Tables: referral codes (one per customer, made on demand) and referrals (attributions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, UTCDateTime


class ReferralCode(Base):
    __tablename__ = "referral_codes"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id"), primary_key=True, autoincrement=False
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """One attribution tried: `attributed`, or `refused` with the reason (self-referral, the
    referred person already attributed). At most one attributed row per referred customer."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_referrer_id", "referrer_id"),
        Index("uq_referrals_referred_attributed", "referred_id", unique=True,
              postgresql_where=text("status = 'attributed'"),
              sqlite_where=text("status = 'attributed'")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referrer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    referred_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    code: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(20))  # property, campaign or cookie
    status: Mapped[str] = mapped_column(String(10))  # attributed or refused
    reason: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200))  # the converting event
    at: Mapped[datetime] = mapped_column(UTCDateTime)

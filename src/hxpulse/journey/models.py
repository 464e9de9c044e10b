"""Table: every change of journey stage, with its time and the event that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, UTCDateTime


class StageChange(Base):
    __tablename__ = "stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_customer_changed", "customer_id", "changed_at"),
        Index("ix_stage_changes_changed_at", "changed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the causing event's time
    message_id: Mapped[str | None] = mapped_column(String(200))  # the causing event
    channel: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(100))

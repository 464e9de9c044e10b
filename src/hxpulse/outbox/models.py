"""Table: the outbox, one row per action, written in the same transaction as its cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime

STATUSES = ("pending", "done", "dead")


class OutboxRow(Base):
    """An action to deliver: what (`kind`, `payload`), for whom, why, and how it went.

    `key` is the action's idempotency key: one row per key, so a cause committed twice (a
    resent batch, a replayed rule) still acts once; receivers see it as the delivery's id.
    A row is `pending` until delivered (`done`) or out of tries (`dead`, replayable).
    `lease_until` is set while one dispatcher delivers it: no other claims it until then.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "due_at"),
        Index("ix_outbox_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(BigId)
    cause: Mapped[str | None] = mapped_column(String(200))  # e.g. the causing message id
    payload: Mapped[dict[str, Any]] = mapped_column(JSONData)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the next try
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # e.g. the receiver's HTTP status
    last_response: Mapped[str | None] = mapped_column(Text)  # an excerpt, or the error
    # where the retry window starts (a replay starts a new one); None: at created_at
    retry_from: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxAttempt(Base):
    """One try at one outbox row: when, how it went, how long it took (the delivery log)."""

    __tablename__ = "outbox_attempts"
    __table_args__ = (Index("ix_outbox_attempts_outbox", "outbox_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int | None] = mapped_column(Integer)  # e.g. the receiver's HTTP status
    response: Mapped[str | None] = mapped_column(Text)  # an excerpt of the answer
    error: Mapped[str | None] = mapped_column(Text)  # why it failed, when it did
    duration_ms: Mapped[int] = mapped_column(Integer)

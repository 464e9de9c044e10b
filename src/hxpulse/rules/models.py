"""Table: every firing of a rule, with its cause and the actions it wrote (or its cap)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime


class RuleFiring(Base):
    """A rule fired for a customer: what triggered it, its cause (a message id, `case:N`,
    `decay@<moment>`), the outbox keys of the actions it wrote, or `capped` when a frequency cap
    held it back. `key` (rule and cause) makes a replayed cause fire once."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        Index("ix_rule_firings_rule_customer", "rule", "customer_id", "fired_at"),
        Index("ix_rule_firings_customer", "customer_id", "fired_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(60))
    customer_id: Mapped[int] = mapped_column(BigId)
    trigger_kind: Mapped[str] = mapped_column(String(10))
    trigger_name: Mapped[str] = mapped_column(String(100))
    cause: Mapped[str] = mapped_column(String(200))
    actions: Mapped[list[Any]] = mapped_column(JSONData, default=list)
    capped: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)

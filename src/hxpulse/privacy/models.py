"""Tables: tombstones of erased identities and customers' requests to be erased."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime


class IdentityTombstone(Base):
    """An erased identity, kept only as a keyed hash (HMAC-SHA256 of its kind and value with
    the instance's tombstone key), so that the same email or user id is refused at ingest
    without the value itself being kept."""

    __tablename__ = "identity_tombstones"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ErasureRequest(Base):
    """A request to erase a customer: pending (asked for in the preference centre, waiting
    for an admin) or done (`erased_at` set, with the counts of what was removed)."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(20))  # customer, user, key, system
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSONData)

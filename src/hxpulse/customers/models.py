"""Tables: customers, identities and the record of merges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime

IDENTITY_KINDS = ("email", "phone", "user_id", "anonymous_id", "social", "external_id")


class Customer(Base):
    """A person. Every event updates its row (pulse sums, stage, last seen), so it carries few
    indexes: each index is one more entry written per update; `merged_into_id` is indexed only
    where set (merged rows, which are never updated again); `(last_seen_at, id)` is the list's
    sort by last activity, read in order in both directions (customers/listing.py)."""

    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_merged_into_id", "merged_into_id",
              postgresql_where=text("merged_into_id IS NOT NULL"),
              sqlite_where=text("merged_into_id IS NOT NULL")),
        Index("ix_customers_last_seen_at_id", "last_seen_at", "id"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(200))
    traits: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    consent: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the pulse's running sums (see analytics/pulse.py): S, and the undecayed I and R
    pulse_key: Mapped[float] = mapped_column(Float, default=0.0, server_default="0", index=True)
    pulse_investments: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    pulse_returns: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # when the customer last gave something back (a return event): the "lapsed" overlay
    last_return_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # negative experiences not yet resolved (see pulse_negatives): the "at-risk" overlay
    open_negatives: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the journey (see journey/): current stage, since when, and whether the last NPS answer
    # was a detractor's
    stage: Mapped[str] = mapped_column(String(40), default="prospect", server_default="prospect")
    stage_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detractor: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # what the journey's replay knows at the customer's latest evaluated moment, so that later
    # events are decided from it (journey/definition.py, `Counters`); none: replayed in full
    journey_counters: Mapped[str | None] = mapped_column(Text)
    # the latest occurred_at of the customer's own events (none, or merged away: null), kept by
    # the ingest's customer update (pulse/live.py) and by merges
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when the customer's personal data was erased (privacy/): the row stays, anonymous
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("value", "kind", name="uq_identities_value_kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerMerge(Base):
    __tablename__ = "customer_merges"
    __table_args__ = (Index("ix_customer_merges_merged_id", "merged_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    survivor_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    merged_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(200))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)

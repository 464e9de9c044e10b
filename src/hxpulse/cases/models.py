"""Tables: teams with their business hours, their agents, cases and each case's thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hxpulse.db.base import Base, BigId, JSONData, UTCDateTime

STATUSES = ("open", "in_progress", "waiting", "resolved", "closed")
ACTIVE = ("open", "in_progress")  # the SLA clocks run (waiting: paused; resolved, closed: frozen)
PRIORITIES = ("urgent", "high", "normal", "low")
ENTRY_KINDS = ("note", "message_out", "message_in", "status", "assign", "sla")


class Team(Base):
    """A team of agents, with the calendar its SLAs count in: a time zone, windows per weekday
    (`hours`: {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], …}; none at all: 24/7), public
    holidays of a country (and subdivision) and extra closed dates (ISO strings)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    zone: Mapped[str] = mapped_column(String(64), default="UTC")
    hours: Mapped[dict[str, Any]] = mapped_column(JSONData)
    holiday_country: Mapped[str | None] = mapped_column(String(10))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))
    closed_dates: Mapped[list[str]] = mapped_column(JSONData)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamMember(Base):
    """An agent of a team; round-robin picks the active one least recently assigned."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Case(Base):
    """One case of one customer, with its SLA clocks.

    Due times are absolute moments computed by `cases.sla` from the team's calendar; while
    `waiting` (on the customer) they are paused from `waiting_since`, and leaving that status
    adds the paused business time to them (`paused_seconds` in all, `response_paused_seconds`
    before the first response). A breach stamps the due time it passed. `next_due_at` is the
    earliest due time still running (None when resolved or closed): the inbox sorts by it.
    `source_key` makes opening idempotent (the outbox key, or the API's idempotency key);
    `resolves` is the negative experience's message id the resolution names.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_next_due", "status", "next_due_at"),
        Index("ix_cases_owner_status", "owner_id", "status"),
        Index("ix_cases_team_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(400))
    source_event: Mapped[str | None] = mapped_column(String(200))
    resolves: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("teams.id"))
    owner_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    response_paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolutions: Mapped[int] = mapped_column(BigInteger, default=0)  # times resolved
    source_key: Mapped[str] = mapped_column(String(200), unique=True)


class CaseEntry(Base):
    """The thread and timeline of a case: notes, messages out and in, changes of status and
    owner, SLA events (breaches, pauses, re-opened clocks)."""

    __tablename__ = "case_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    author: Mapped[str | None] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Request bodies and responses of the cases and teams API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["open", "in_progress", "waiting", "resolved", "closed"]
Priority = Literal["urgent", "high", "normal", "low"]
Channel = Literal["web", "app", "email", "social", "phone", "chat", "store", "other"]
MetricState = Literal["running", "overdue", "paused", "met", "missed"]


class CaseCreate(BaseModel):
    """A case to open for a customer; the same `idempotency_key` opens it only once."""

    model_config = ConfigDict(extra="forbid")

    customer: str = Field(
        min_length=1,
        max_length=400,
        examples=["ann@example.com", "id:1"],
        description="Any identity of the customer, or `id:N`.",
    )
    reason: str = Field(min_length=1, max_length=400, examples=["Parcel arrived damaged"])
    priority: Priority | None = None
    team: str | None = Field(None, max_length=100, description="Default: [cases] default_team.")
    owner: str | None = Field(
        None, max_length=320, description="An agent's email; default: round-robin in the team."
    )
    department: str | None = Field(None, max_length=100)
    channel: Channel | None = None
    source_event: str | None = Field(
        None,
        max_length=200,
        description="The causing event's message id (a complaint: resolving lifts it).",
    )
    idempotency_key: str | None = Field(None, min_length=1, max_length=150)


class Body(BaseModel):
    """A reply to the customer, or an internal note."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=10_000, examples=["Sorry! A new one is on its way."])


class StatusChange(BaseModel):
    """The status to move a case to (`waiting`: on the customer, the SLA clocks pause)."""

    model_config = ConfigDict(extra="forbid")

    status: Status


class Assignment(BaseModel):
    """The agent (email or id; null: nobody) and optionally the team to give the case to."""

    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(None, max_length=320, examples=["agent@example.com"])
    team: str | None = Field(None, max_length=100)


class Resolution(BaseModel):
    """What to tell the customer; `invite`: ask the configured "did we fix it?" survey."""

    model_config = ConfigDict(extra="forbid")

    message: str | None = Field(None, min_length=1, max_length=10_000)
    invite: bool = True


class CaseRead(BaseModel):
    """A case with its SLA: due times, breaches, each metric's state and the time left."""

    id: int
    customer_id: int
    customer_name: str | None = None
    status: Status
    reason: str
    owner: str | None = Field(description="The owner's email, or null.")
    owner_id: int | None
    team: str | None
    team_id: int | None
    priority: Priority
    channel: str | None
    department: str | None
    source_event: str | None
    resolves: str | None = Field(description="The negative experience resolving lifts.")
    created_at: datetime
    updated_at: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_due: datetime
    resolution_due: datetime
    next_due_at: datetime | None
    waiting_since: datetime | None
    paused_seconds: float
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    first_response: MetricState
    resolution: MetricState
    seconds_left: float | None = Field(description="Until the next due time (negative: late).")
    breached: bool


class CaseList(BaseModel):
    items: list[CaseRead]


class EntryRead(BaseModel):
    """One entry of a case's thread: note, message_out, message_in, status, assign or sla."""

    id: int
    kind: str
    author: str | None
    body: str
    at: datetime


class CaseDetail(CaseRead):
    thread: list[EntryRead]


class SlaRow(BaseModel):
    """One team × priority × channel × metric: decided cases, share met, median time."""

    team: str | None
    owner: str | None = Field(description="The agent (with `by=owner`; else null).")
    priority: str
    channel: str | None
    metric: Literal["first_response", "resolution"]
    count: int
    met: int
    share_met: float
    median_seconds: float | None = Field(description="In business seconds, less paused time.")


class SlaReport(BaseModel):
    items: list[SlaRow]


Windows = dict[str, list[list[str]]]


class TeamCreate(BaseModel):
    """A team; `hours` per weekday (`{"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}`; none:
    24/7), in `zone`, closed on the public holidays of `holiday_country`/`subdivision`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["Support"])
    zone: str = Field("UTC", max_length=64, examples=["Europe/Berlin"])
    hours: Windows = Field(
        default_factory=dict, examples=[{"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}]
    )
    holiday_country: str | None = Field(None, max_length=10, examples=["DE"])
    holiday_subdivision: str | None = Field(None, max_length=10, examples=["BY"])
    closed_dates: list[str] = Field(
        default_factory=list, max_length=1000, examples=[["2026-12-31"]]
    )


class TeamHours(TeamCreate):
    """A team's new calendar (its name stays)."""

    name: str = Field("", max_length=100, description="Ignored.")


class Member(BaseModel):
    """An agent to add to the team (email or id); `active: false` takes them out of
    round-robin."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=320, examples=["agent@example.com"])
    active: bool = True


class MemberRead(BaseModel):
    user_id: int
    email: str
    name: str | None
    role: str
    active: bool
    last_assigned_at: datetime | None


class TeamRead(BaseModel):
    id: int
    name: str
    zone: str
    hours: Windows
    hours_text: str
    holiday_country: str | None
    holiday_subdivision: str | None
    closed_dates: list[str]
    members: list[MemberRead]
    created_at: datetime


class TeamList(BaseModel):
    items: list[TeamRead]

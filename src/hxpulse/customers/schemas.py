"""Response shapes of the customer routes (`/api/customers`), as `customers.queries` builds
them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hxpulse.events.schemas import EventRead


class IdentityBrief(BaseModel):
    kind: str = Field(description="email, phone, user_id, anonymous_id, social or external_id.")
    value: str = Field(description="Normalised: emails lower case, phones in E.164, …")


class CustomerItem(BaseModel):
    """One customer in a list."""

    id: int
    name: str | None
    created_at: datetime
    stage: str = Field(description="The journey stage now.")
    event_count: int
    last_seen_at: datetime | None = Field(description="The latest event's moment; none: none.")
    identities: list[IdentityBrief]
    pulse: float = Field(description="The pulse now.")
    band: str = Field(description="The pulse's band now (`at-risk` below every band).")


class CustomerPage(BaseModel):
    """One page of the live customers the filters select, in the order asked for."""

    items: list[CustomerItem]
    total: int = Field(description="How many live customers the filters select, in all pages.")
    page: int
    per_page: int
    pages: int = Field(description="How many pages the total fills (at least 1).")
    has_next: bool = Field(description="Whether a next page has customers.")
    q: str = Field(description="The search as applied (trimmed).")
    stage: str | None = Field(description="The stage filter; none: every stage.")
    sort: str = Field(description="The order as applied (`-`: descending).")


class IdentityRead(IdentityBrief):
    created_at: datetime


class MergedFrom(BaseModel):
    """A profile merged into this one."""

    merged_id: int
    merged_at: datetime
    message_id: str | None = Field(description="The event that showed they are one person.")


class SurveyAnswer(BaseModel):
    """One survey answer of the customer (or of a profile merged into it), with its why."""

    survey: str = Field(description="The survey's name.")
    kind: str = Field(description="nps, csat or ces.")
    score: int
    band: str = Field(description="The score's band on the kind's scale (`detractor`, …).")
    why: str | None = Field(description="The free-text reason given; none: none (or erased).")
    flagged: bool = Field(description="Whether the why read as strongly negative.")
    answered_at: datetime
    channel: str | None
    department: str | None
    touchpoint: str | None


class CustomerProfile(BaseModel):
    """One profile: the stored row, its identities, a summary of its events, a page of its
    events, its latest survey answers and the profiles merged into it."""

    id: int
    name: str | None
    traits: dict[str, Any] = Field(description="The latest value of each trait sent.")
    preferences: dict[str, Any]
    consent: dict[str, Any] = Field(
        description="Per purpose: `status` (granted, denied), `source`, `at`, `via`."
    )
    created_at: datetime
    updated_at: datetime
    merged_into_id: int | None = Field(description="Set on a profile merged into another.")
    merged_at: datetime | None
    pulse_key: float = Field(description="The stored key of the pulse (log space), not the pulse.")
    pulse_investments: float = Field(description="What the brand put in, undecayed.")
    pulse_returns: float = Field(description="What the customer gave back, undecayed.")
    last_return_at: datetime | None
    open_negatives: int = Field(description="Negative experiences not resolved yet.")
    stage: str
    stage_at: datetime | None
    detractor: bool = Field(description="Whether the last NPS answer was a detractor's.")
    erased_at: datetime | None = Field(description="When the personal data was erased.")
    identities: list[IdentityRead]
    event_count: int
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    channels: dict[str, int] = Field(description="Events per channel.")
    events: list[EventRead] = Field(
        description="A page of events (`limit`; `before` or `after` an event id), newest first."
    )
    has_older: bool = Field(description="Whether older events exist (`before` the last one).")
    has_newer: bool = Field(description="Whether newer events exist (`after` the first one).")
    events_offset: int = Field(description="How many newer events come before this page.")
    answers: list[SurveyAnswer] = Field(description="The latest 50 survey answers, newest first.")
    answer_count: int = Field(description="How many survey answers there are in all.")
    merged_from: list[MergedFrom]

"""The shape of the export document (format `hxpulse.customer-export`, version 1): everything
held about one customer, as `GET /api/customers/{ref}/export` and the preference centre's
download give it (see `privacy.export`). Free-form parts (traits, properties, snapshots,
details) are objects of any JSON; moments are ISO 8601 with their offset."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hxpulse.privacy.schemas import PurposeRead
from hxpulse.rules.schemas import FiringOut


class ExportProfile(BaseModel):
    id: int
    name: str | None
    created_at: datetime
    updated_at: datetime
    stage: str
    stage_at: datetime | None
    detractor: bool
    pulse_key: float
    pulse_investments: float
    pulse_returns: float
    open_negatives: int
    last_return_at: datetime | None
    erased_at: datetime | None


class ExportIdentity(BaseModel):
    kind: str
    value: str
    created_at: datetime


class ExportEvent(BaseModel):
    message_id: str
    kind: str
    type: str
    name: str | None
    channel: str
    department: str | None
    occurred_at: datetime
    received_at: datetime
    value: float | None
    currency: str | None
    source: str
    properties: dict[str, Any]
    context: dict[str, Any] | None


class ExportInvitation(BaseModel):
    id: int
    survey: str = Field(description="The survey's name.")
    via: str = Field(description="email or link")
    email: str | None
    sent_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    answered_at: datetime | None


class ExportAnswer(BaseModel):
    survey: str = Field(description="The survey's name.")
    kind: str
    score: int
    band: str
    why: str | None
    sentiment: float | None
    flagged: bool
    answered_at: datetime
    department: str | None
    channel: str | None
    touchpoint: str | None
    themes: list[str]


class ExportStageChange(BaseModel):
    changed_at: datetime
    from_stage: str | None
    to_stage: str
    message_id: str | None
    channel: str | None
    department: str | None


class ExportMerge(BaseModel):
    merged_id: int
    merged_at: datetime
    message_id: str | None
    snapshot: dict[str, Any] = Field(description="The merged profile as it was; {}: erased.")


class ExportErasureRequest(BaseModel):
    requested_at: datetime
    erased_at: datetime | None
    requested_by: str


class ExportAuditEntry(BaseModel):
    at: datetime
    action: str
    actor_kind: str
    actor_label: str = Field(description="For the customer themself, staff named by role.")
    address: str | None
    detail: dict[str, Any] | None


class ExportCaseEntry(BaseModel):
    kind: str
    body: str
    at: datetime


class ExportCase(BaseModel):
    id: int
    reason: str
    status: str
    priority: str
    channel: str | None
    created_at: datetime
    resolved_at: datetime | None
    thread: list[ExportCaseEntry] = Field(description="Messages (and, for staff, notes).")


class ExportFeedMessage(BaseModel):
    id: int = Field(description="The message's id on the customer's live feed.")
    type: str
    data: dict[str, Any]
    created_at: datetime


class ExportValue(BaseModel):
    customer_id: int
    expected_purchases: float = Field(description="Expected purchases in the next 12 months.")
    p_alive: float = Field(description="The probability that the customer is still active.")
    expected_spend: float | None = Field(description="Expected value of a purchase.")
    clv: float = Field(description="Lifetime value over the next 12 months.")
    first_purchase: float | None = Field(description="The value of the first purchase.")
    fitted_at: datetime


class ExportExposure(BaseModel):
    id: int
    offer: str = Field(description="The offer's key.")
    shown_at: datetime
    arm: str = Field(description="model, or holdout (a random eligible offer).")
    segment: str
    context: str | None
    score: float | None
    reason: str | None = Field(description="Why the offer was shown, in plain words.")
    response: str | None = Field(description="accepted, declined, or none yet.")
    responded_at: datetime | None
    revenue: float | None


class CustomerExport(BaseModel):
    """Everything held about the customer (merged profiles followed to the live one)."""

    format: Literal["hxpulse.customer-export"]
    version: Literal[1]
    exported_at: datetime
    customer_id: int = Field(description="The live profile's internal id.")
    profile: ExportProfile
    traits: dict[str, Any]
    preferences: dict[str, Any]
    consent: dict[str, Any] = Field(description="The answers as stored, per purpose.")
    consent_by_purpose: list[PurposeRead]
    identities: list[ExportIdentity]
    events: list[ExportEvent]
    survey_invitations: list[ExportInvitation]
    survey_answers: list[ExportAnswer]
    stage_history: list[ExportStageChange]
    merged_profiles: list[ExportMerge]
    erasure_requests: list[ExportErasureRequest]
    audit: list[ExportAuditEntry] = Field(description="Audit entries about the customer.")
    cases: list[ExportCase] = Field(default_factory=list, description="Cases and their threads.")
    rule_firings: list[FiringOut] = Field(
        default_factory=list, description="The rules that fired for the customer, and why."
    )
    feed_messages: list[ExportFeedMessage] = Field(
        default_factory=list, description="The messages of the customer's own live feed."
    )
    lifetime_value: list[ExportValue] = Field(
        default_factory=list, description="The lifetime value the last `fit clv` stored."
    )
    offer_exposures: list[ExportExposure] = Field(
        default_factory=list, description="The offers shown to the customer, and the answers."
    )

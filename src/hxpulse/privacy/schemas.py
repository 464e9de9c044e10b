"""Request and response shapes of the privacy routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

Status = Literal["granted", "denied"]


class ConsentUpdate(BaseModel):
    """New answers per purpose; purposes left out keep their answer."""

    model_config = ConfigDict(extra="forbid")

    email_marketing: Status | None = Field(None, description="News and offers by email.")
    surveys: Status | None = Field(None, description="Survey invitations.")
    personalisation: Status | None = Field(None, description="Offers from their own history.")
    profiling: Status | None = Field(None, description="Comparison with similar customers.")

    def changes(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class PurposeRead(BaseModel):
    purpose: str
    label: str
    description: str
    default: str = Field(description="What holds without an answer.")
    status: Status | None = Field(description="The recorded answer; none: not asked.")
    allowed: bool = Field(description="Whether HX Pulse uses the customer for it now.")
    at: str | None = Field(description="When the answer was given (ISO 8601).")
    via: str | None = Field(
        description="event, import, preference_centre, agent, api, erasure_request, erasure"
    )
    source: str | None = Field(description="The event's message id, the staff member or key.")


class ConsentRead(BaseModel):
    customer_id: int
    changed: list[str] = Field(default_factory=list, description="Purposes this call changed.")
    purposes: list[PurposeRead]
    other: dict[str, Any] = Field(description="Answers under other names, kept as they came.")
    email_allowed: bool = Field(description="False when the customer said no to all email.")


class ErasureRead(BaseModel):
    customer_id: int
    erased_at: datetime
    identities: int
    tombstones: int
    merged_profiles: int
    events: int
    survey_answers: int
    survey_invitations: int
    merge_snapshots: int
    case_entries: int = Field(0, description="Messages and notes of their cases emptied.")
    outbox_actions: int = Field(0, description="Actions for them emptied (pending: not sent).")
    feed_messages: int = Field(0, description="Messages of the customer's own live feed.")
    referral_codes: int = Field(0, description="Their referral code (its link stops working).")
    lifetime_values: int = Field(0, description="Their stored lifetime value (`fit clv`).")
    offer_exposures: int = Field(0, description="Offers shown to them (the bandit's counts stay).")
    model_rows: int = Field(
        0, description="Their rows of the fitted offers model (items, factors) dropped; "
        "its counts over everyone stay."
    )  # fmt: skip
    text_model_dropped: bool = Field(
        False, description="The fitted text model was deleted (they wrote a why it may have "
        "learnt from): VADER scores whys until the next `hxpulse fit`."
    )  # fmt: skip


class ErasureRequestRead(BaseModel):
    id: int
    customer_id: int
    requested_at: datetime
    requested_by: str
    due_at: datetime
    erased_at: datetime | None
    pending: bool


class RequestList(BaseModel):
    items: list[ErasureRequestRead]


class ErasureState(ErasureRequestRead):
    """The customer's own erasure request, as the preference centre shows it."""

    counts: dict[str, Any] | None = Field(description="What the erasure removed; none: pending.")


class HeldIdentity(BaseModel):
    kind: str = Field(description="email, phone, user_id, anonymous_id, social, external_id")
    value: str


class HeldActivity(BaseModel):
    touchpoints: int = Field(description="How many events the business holds.")
    first_seen_at: datetime | None
    last_seen_at: datetime | None


class PreferencesRead(BaseModel):
    """What the business holds about the link's customer (no staff names)."""

    customer_id: int
    name: str | None
    identities: list[HeldIdentity]
    traits: dict[str, Any]
    preferences: dict[str, Any]
    activity: HeldActivity
    consent: list[PurposeRead]
    erasure: ErasureState | None = Field(description="The customer's erasure request, if any.")


class PreferencesErased(BaseModel):
    """The link's customer was erased: nothing is held that names them."""

    erased: Literal[True]


class PreferencesAnswer(RootModel[PreferencesRead | PreferencesErased]):
    """What `GET /api/preferences/{token}` answers: what is held, or that nothing is."""

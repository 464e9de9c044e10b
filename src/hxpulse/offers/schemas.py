"""Offers input and output shapes (the input ones are `offers.settings`, shared with the file)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hxpulse.offers.settings import Eligibility


class OfferRead(BaseModel):
    id: int
    key: str
    name: str
    kind: str
    description: str
    item: str | None
    eligibility: Eligibility
    valid_from: datetime | None
    valid_until: datetime | None
    cost: float
    value: float
    active: bool
    created_at: datetime
    updated_at: datetime


class ServedOffer(BaseModel):
    key: str
    name: str
    kind: str
    description: str
    score: float | None = Field(description="The bandit's draw of its acceptance (holdout: None).")
    model_score: float | None = Field(description="The fitted model's score, when it has one.")
    reason: str = Field(description="Why, in plain words.")
    source: str = Field(description="als, together, popular, catalogue or holdout.")
    arm: Literal["model", "holdout"]
    exposure_id: int | None = Field(description="The exposure logged (None: not recorded).")


class Recommendations(BaseModel):
    customer_id: int
    arm: Literal["model", "holdout"] = Field(description="holdout: random eligible offers.")
    segment: str = Field(description="What the bandit learns per (the band or the stage).")
    context: str | None
    offers: list[ServedOffer]


class ResponseIn(BaseModel):
    """The customer's answer to an offer shown: recorded as an `offer_accepted` or
    `offer_declined` event (the pulse and timeline see it)."""

    model_config = ConfigDict(extra="forbid")

    response: Literal["accepted", "declined"]
    exposure_id: int | None = Field(None, ge=1, le=2**63 - 1, description="The exposure answered.")
    offer: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="Else the offer's key (its latest unanswered exposure).",
    )
    revenue: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False)


class ResponseRead(BaseModel):
    customer_id: int
    exposure_id: int | None
    offer: str | None
    response: str | None
    revenue: float | None


class OffersReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    generated_at: datetime
    holdout_share: float
    ignored_after_hours: float
    overall: dict[str, Any]
    offers: list[dict[str, Any]]

"""Advocacy input and output shapes: an ask, and the advocacy report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hxpulse.events.schemas import Channel


class AskCreate(BaseModel):
    """A person asks the customer for a referral or a review."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field("other", description="Where the ask was made (phone, email, …).")
    note: str | None = Field(None, max_length=500, description="What was said, for the profile.")


class AskRead(BaseModel):
    customer_id: int
    code: str = Field(description="The customer's referral code (made on first ask).")
    link: str = Field(description="The customer's public referral link.")


class Platforms(BaseModel):
    total: int
    per_platform: dict[str, int]


class Advocate(BaseModel):
    customer_id: int
    name: str | None
    referrals: int
    reviews_and_shares: int


class AdvocacyReport(BaseModel):
    since: datetime | None
    until: datetime | None
    channel: str | None
    department: str | None
    promoters: int = Field(description="Customers whose last NPS answer is a promoter's.")
    asked: int = Field(description="Of those promoters, how many were asked at least once.")
    ask_rate: float | None = Field(description="asked / promoters (None: no promoters).")
    asks: int = Field(description="Asks made (referral_ask events).")
    asked_customers: int
    referrals: int = Field(description="Referrals attributed.")
    conversion: float | None = Field(description="referrals / asks (None: no asks).")
    asked_who_referred: int
    asked_who_referred_rate: float | None = Field(
        description="Share of asked customers who brought at least one referral."
    )
    referred_customers: int
    referred_revenue: float = Field(description="Referred customers' purchases since referral.")
    reviews: Platforms
    shares: Platforms
    top_advocates: list[Advocate]

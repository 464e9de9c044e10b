"""What the feed routes answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class FeedTokenRead(BaseModel):
    """A customer's live-feed token, for the business's backend to hand to its page or app."""

    token: str = Field(description="Send as `?token=` to the feed; it works until expires_at.")
    customer_id: int = Field(description="The customer's internal id.")
    expires_at: datetime
    url: str = Field(description="The feed's address with the token, for `new EventSource(url)`.")


class FeedMessageRead(BaseModel):
    """One message of a feed, as its SSE event carries it (`id`, `event` = type, `data`)."""

    id: int = Field(description="The SSE event id: resume after it with Last-Event-ID.")
    type: str = Field(examples=["case.opened", "case.breached", "customer.at_risk"])
    team: str | None = Field(description="The team it is for; null: everyone.")
    customer_id: int | None
    data: dict[str, Any]
    created_at: datetime


class FeedMessages(BaseModel):
    """The newest team-feed messages the caller sees, newest first."""

    items: list[FeedMessageRead]

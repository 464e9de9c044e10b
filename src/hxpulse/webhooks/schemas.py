"""Request bodies and responses of the webhooks API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

EventTypes = list[str]


class WebhookCreate(BaseModel):
    """An endpoint to add: its name (rules name it), URL and the event types it wants."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["ops"])
    url: str = Field(min_length=1, max_length=2000, examples=["https://hooks.example.com/hx"])
    event_types: EventTypes = Field(
        default_factory=list,
        max_length=100,
        description="The event types it receives (`case.opened`, `rule.fired`, …); none: all.",
    )
    description: str | None = Field(None, max_length=1000)


class WebhookUpdate(BaseModel):
    """What to change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=2000)
    event_types: EventTypes | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=1000)
    enabled: bool | None = Field(None, description="False: nothing is sent to it.")


class WebhookRead(BaseModel):
    """An endpoint (never its secret)."""

    id: int
    name: str
    url: str
    event_types: EventTypes = Field(description="None listed: every type.")
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled (e.g. 410 Gone).")
    created_at: datetime
    updated_at: datetime
    previous_until: datetime | None = Field(
        description="Until when the secret before the last rotation still signs deliveries."
    )


class WebhookList(BaseModel):
    items: list[WebhookRead]


class WebhookCreated(WebhookRead):
    """An endpoint with its new secret, returned this once."""

    secret: str = Field(description="`whsec_…`: verify deliveries with any Standard Webhooks"
                                    " library.")  # fmt: skip


class PingQueued(BaseModel):
    """A `webhook.test` ping was enqueued."""

    key: str = Field(description="The delivery's key: the `webhook-id` the receiver sees.")

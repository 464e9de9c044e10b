"""Responses of the deliveries API, and the body of a bulk replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["pending", "done", "dead"]


class DeliveryListed(BaseModel):
    """One outbox action and how its delivery is going."""

    id: int
    key: str = Field(description="The idempotency key (a webhook's `webhook-id`).")
    kind: str = Field(description="webhook, email, notify, feed, case.open, …")
    endpoint: str | None = Field(description="The webhook endpoint's name, for webhooks.")
    type: str | None = Field(description="The event type, where the payload has one.")
    customer_id: int | None
    cause: str | None
    status: Status
    attempts: int = Field(description="Tries so far (since the last replay).")
    created_at: datetime
    due_at: datetime = Field(description="When the next try is due (pending ones).")
    delivered_at: datetime | None
    last_status: int | None = Field(description="The last try's status (HTTP, for webhooks).")
    last_response: str | None = Field(description="An excerpt of the last answer, or the error.")


class DeliveryCounts(BaseModel):
    pending: int
    done: int
    dead: int


class DeliveryList(BaseModel):
    items: list[DeliveryListed]
    counts: DeliveryCounts


class Attempt(BaseModel):
    """One try."""

    id: int
    attempt: int
    at: datetime
    ok: bool
    status: int | None
    response: str | None
    error: str | None
    duration_ms: int


class DeliveryRead(DeliveryListed):
    """A delivery with its payload and every try, newest first."""

    payload: dict[str, Any]
    retry_from: datetime | None = Field(description="Where the retry window began (a replay).")
    tries: list[Attempt]


class ReplayFilter(BaseModel):
    """Which deliveries to replay: by default every dead one."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["dead", "done"] = "dead"
    kind: str | None = Field(None, max_length=40)
    endpoint: str | None = Field(None, max_length=100)
    customer_id: int | None = Field(None, ge=1, le=2**63 - 1)


class Replayed(BaseModel):
    replayed: int = Field(description="How many deliveries are due again now.")

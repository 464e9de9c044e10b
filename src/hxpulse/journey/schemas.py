"""Response shapes of the journey routes, as `journey.service` and `journey.funnel` build them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FunnelStage(BaseModel):
    """One stage of the funnel."""

    stage: str
    label: str
    reached: int = Field(description="Customers who reached it (or a later stage) in the range.")
    conversion: float | None = Field(
        description="reached ÷ the previous stage's reached; none for the first stage or after"
        " a stage nobody reached."
    )
    median_days_in_stage: float | None = Field(
        description="Over the stays that ended in the range; none without any."
    )
    stays: int = Field(description="The stays the median is taken over.")
    current: int = Field(description="Live customers at it now.")
    at_risk: int = Field(description="Of them, at risk.")
    lapsed: int = Field(description="Of them, lapsed.")


class FunnelNow(BaseModel):
    """Live customers now, at risk and lapsed, over every stage."""

    customers: int
    at_risk: int
    lapsed: int


class Funnel(BaseModel):
    """The funnel over [start, end), with the filters as applied."""

    start: datetime | None = Field(description="Included; none: from the first change.")
    end: datetime | None = Field(description="Excluded; none: open.")
    channel: str | None
    department: str | None
    as_of: datetime
    stages: list[FunnelStage]
    now: FunnelNow


class StageChangeRead(BaseModel):
    """A change of stage and the event that caused it."""

    changed_at: datetime = Field(description="The causing event's moment.")
    from_stage: str | None = Field(description="None: the customer's first stage.")
    to_stage: str
    message_id: str | None
    channel: str | None
    department: str | None


class CustomerJourney(BaseModel):
    """One customer's stage now, since when, the overlays and every change of stage."""

    customer_id: int
    stage: str
    stage_at: datetime | None
    at_risk: bool
    lapsed: bool
    detractor: bool = Field(description="Whether the last NPS answer was a detractor's.")
    open_negatives: int
    last_return_at: datetime | None
    history: list[StageChangeRead] = Field(description="Oldest first.")

"""Response shapes of the journey routes, as `journey.service` and `journey.funnel` build them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FunnelStage(BaseModel):
    """One stage of the funnel."""

    stage: str
    label: str
    entered: int = Field(
        description="Customers who entered it in the range: a first event or a move up into it"
        " (a fall back into it is no entry), through the channel and department when given."
    )
    went_on: int = Field(
        description="Of them, those who later reached a higher stage (at any time up to now,"
        " through any channel)."
    )
    conversion: float | None = Field(
        description="went_on ÷ entered; none when nobody entered it, and for the last stage"
        " (there is none higher)."
    )
    median_days_to_next: float | None = Field(
        description="Median days from entering it to entering a higher stage, over those who"
        " went on; none without any."
    )
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

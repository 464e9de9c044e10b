"""Response shapes of the pulse routes, as `pulse.service` builds them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hxpulse.analytics.pulse import Component


class Contribution(BaseModel):
    """One event's part in the pulse."""

    message_id: str
    type: str
    occurred_at: datetime
    component: Component
    weight: float = Field(
        description="What it counts with: an unresolved negative `[pulse] negative_multiplier`"
        " times its weight."
    )
    now: float = Field(description="What is left of it at `as_of` after decay.")


class CustomerPulse(BaseModel):
    """One customer's pulse explained: pulse = investments + returns − decay."""

    customer_id: int
    pulse: float
    investments: float = Field(description="What the brand put in, undecayed.")
    returns: float = Field(description="What the customer gave back, undecayed.")
    decay: float = Field(description="What time took away: investments + returns − pulse.")
    band: str = Field(
        description="The relationship's band: thriving, steady, at-risk or lapsed"
        " for customers; warm or cold for prospects and leads."
    )
    trend: float = Field(description="The change of the pulse over the last `trend_days`.")
    trend_days: int
    stage: str | None = Field(description="The journey stage then; none before the first.")
    stage_at: datetime | None
    at_risk: bool = Field(
        description="In the at-risk band: a negative experience open, the last"
        " NPS answer a detractor's, a pulse below zero, or no return for"
        " `[pulse.bands] fall` half-lives."
    )
    lapsed: bool = Field(
        description="In the lapsed band: no return for `[pulse.bands] lapsed` half-lives."
    )
    open_negatives: int
    last_return_at: datetime | None
    top_events: list[Contribution] = Field(description="The events that count most at `as_of`.")
    as_of: datetime
    replayed: bool = Field(description="Rebuilt from the events (a moment before the latest).")


class PulsePoint(BaseModel):
    at: datetime
    pulse: float
    investments: float
    returns: float
    decay: float


class PulseHistory(BaseModel):
    """The pulse curve, evenly spaced from `start` to `end`."""

    customer_id: int
    points: list[PulsePoint]


class AtRiskCustomer(BaseModel):
    customer_id: int
    name: str | None
    pulse: float
    band: str
    stage: str
    last_return_at: datetime | None
    open_negatives: int
    detractor: bool
    reasons: list[str] = Field(description="Why at risk, in plain words, most pressing first.")


class AtRisk(BaseModel):
    """The at-risk customers, the relationships with the most to lose (highest pulse) first."""

    as_of: datetime
    total: int = Field(description="At-risk customers in all.")
    limit: int
    offset: int
    items: list[AtRiskCustomer]


class Distribution(BaseModel):
    """A histogram of pulse over live customers; the top 1% is folded into the last bin."""

    edges: list[float] = Field(description="Bin edges: bin n holds pulses from edge n on.")
    counts: list[int] = Field(description="Customers per bin.")
    total: int = Field(description="Live customers.")


class PulseBands(BaseModel):
    """How many live customers each band holds, and the spread of pulse."""

    as_of: datetime
    bands: dict[str, int] = Field(
        description="Customers per band: thriving, steady, at-risk,"
        " lapsed, then warm and cold (prospects and leads)."
    )
    distribution: Distribution


class Mover(BaseModel):
    customer_id: int
    name: str | None
    pulse: float = Field(description="The pulse at `as_of`.")
    before: float = Field(description="The pulse `days` before.")
    change: float


class PulseMovers(BaseModel):
    """Whose pulse rose and fell most over the `days` before `as_of`."""

    as_of: datetime
    days: int
    rises: list[Mover] = Field(description="Largest rise first.")
    falls: list[Mover] = Field(description="Largest fall first.")

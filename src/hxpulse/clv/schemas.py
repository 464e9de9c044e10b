"""What the lifetime-value routes answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CustomerValueRead(BaseModel):
    customer_id: int
    fitted: bool = Field(description="False: no value (no purchase in the last fit, or no fit).")
    fitted_at: datetime | None = Field(description="When the last `fit clv` ran.")
    calibration_end: str | None = Field(description="The last day of purchases it fitted on.")
    months: int = Field(description="The horizon of expected purchases and CLV, in months.")
    expected_purchases: float | None = Field(description="Expected purchases in the horizon.")
    p_alive: float | None = Field(description="The probability that they are still active.")
    expected_spend: float | None = Field(description="Expected value of a purchase.")
    clv: float | None = Field(description="Expected purchases × expected spend in the horizon.")
    first_purchase: float | None = Field(description="The value of their first purchase.")
    clv_per_first_purchase: float | None = Field(description="CLV ÷ the first purchase's value.")


class ValueModel(BaseModel):
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    log_likelihood: float = Field(description="BG/NBD's log-likelihood at the fit.")
    gamma_gamma_log_likelihood: float
    calibration_end: str
    customers: int
    repeat_buyers: int
    fitted_at: datetime


class Histogram(BaseModel):
    edges: list[float] = Field(description="Bin edges: equal bins to the 99th percentile, then "
                               "one bin to the maximum.")  # fmt: skip
    counts: list[int] = Field(description="Customers per bin (one fewer than the edges).")
    customers: int


class ValueAtRisk(BaseModel):
    value: float = Field(description="The CLV of the customers in the at-risk band now.")
    customers: int = Field(description="At-risk customers with a value.")
    total_clv: float = Field(description="Every live customer's CLV.")
    share: float | None = Field(description="value ÷ total_clv.")
    link: str


class TopCustomer(BaseModel):
    customer_id: int
    ref: str = Field(description="`id:N`, for /api/customers/{ref}.")
    name: str | None
    clv: float
    p_alive: float
    expected_purchases: float
    expected_spend: float | None
    first_purchase: float | None
    clv_per_first_purchase: float | None
    link: str


class ValueReport(BaseModel):
    fitted: bool = Field(description="False before the first `hxpulse fit clv`.")
    model: ValueModel | None
    months: int
    histogram: Histogram
    value_at_risk: ValueAtRisk
    top: list[TopCustomer]

"""The home dashboard's answer (`GET /api/dashboard`): one object per tile, each with the link
to the page that shows its figures in full."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

LINK = "The page with these figures in full."


class NpsWeek(BaseModel):
    period: str = Field(description="The week's Monday (YYYY-MM-DD).")
    nps: float | None
    n: int


class NpsTile(BaseModel):
    since: date
    until: date = Field(description="The window's last day, included (today).")
    n: int = Field(description="NPS answers in the window.")
    promoters: int
    passives: int
    detractors: int
    nps: float | None = Field(description="% promoters − % detractors (None: no answers).")
    margin_of_error: float | None = Field(description="The 95 % margin, in points.")
    too_small: bool = Field(description="Fewer than 30 answers: shown, not to be read.")
    previous: float | None = Field(description="NPS of the as many days before the window.")
    change: float | None = Field(description="nps − previous.")
    trend: list[NpsWeek] = Field(description="NPS per week of the window, oldest first.")
    link: str = Field(description=LINK)


class StageNow(BaseModel):
    stage: str
    label: str
    current: int = Field(description="Live customers at the stage now.")
    conversion: float | None = Field(
        description="The journey funnel's conversion for the stage over the window (0..1)."
    )


class JourneyTile(BaseModel):
    since: date
    until: date
    customers: int = Field(description="Live customers now.")
    stages: list[StageNow]
    link: str = Field(description=LINK)


class AtRiskTile(BaseModel):
    count: int = Field(description="Live customers at risk now.")
    value: float = Field(description="Their purchase revenue over the last `value_days` days.")
    value_days: int
    lapsed: int = Field(description="Live customers lapsed now (gone quiet: not in the count).")
    caption: str = Field(description="What the two figures count, in words.")
    link: str = Field(description=LINK)


class CasesTile(BaseModel):
    open: int = Field(description="Cases open, in progress or waiting on the customer.")
    breached: int = Field(description="Of those, how many missed an SLA target.")
    since: date = Field(description="The SLA figures are of cases opened since this day.")
    decided: int = Field(description="SLA targets (first response, resolution) decided.")
    met: int
    missed: int
    share_met: float | None = Field(description="met / decided (None: none decided).")
    link: str = Field(description="The case inbox.")
    sla_link: str = Field(description="The SLA report.")


class AdvocacyTile(BaseModel):
    since: date
    promoters: int = Field(description="Customers whose last NPS answer is a promoter's.")
    asked: int = Field(description="Of them, how many were asked for a referral or review.")
    ask_rate: float | None = Field(description="asked / promoters (None: no promoters).")
    referrals: int = Field(description="Referrals attributed.")
    link: str = Field(description=LINK)


class MoverItem(BaseModel):
    customer_id: int
    name: str | None
    pulse: float = Field(description="Pulse now.")
    change: float = Field(description="Pulse now − pulse `days` ago.")
    link: str = Field(description="The customer's page.")


class MoversTile(BaseModel):
    days: int
    rises: list[MoverItem]
    falls: list[MoverItem]
    link: str = Field(description=LINK)


class WhyItem(BaseModel):
    response_id: int
    customer_id: int
    name: str | None
    score: int
    why: str = Field(description="The customer's own words (untrusted text).")
    answered_at: datetime
    survey: str
    link: str = Field(description="The customer's page.")


class WhysTile(BaseModel):
    items: list[WhyItem] = Field(description="The latest NPS detractor answers with a why.")
    link: str = Field(description=LINK)


class Dashboard(BaseModel):
    as_of: datetime
    window_days: int = Field(description="The days the NPS, journey, SLA and advocacy cover.")
    nps: NpsTile
    journey: JourneyTile
    at_risk: AtRiskTile
    cases: CasesTile
    advocacy: AdvocacyTile
    movers: MoversTile
    detractor_whys: WhysTile

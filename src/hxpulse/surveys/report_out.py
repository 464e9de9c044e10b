"""The shape of the NPS, CSAT and CES report (`GET /api/nps`), as `report.report` builds it.

The figures depend on the kind (NPS, CSAT, CES, or a custom scale's mean); each group adds its
name under the key `by` names, its period, and its comparison with the rest. Each shape refuses
keys it does not know, so that a report matches exactly one of them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hxpulse.surveys.kinds import Kind
from hxpulse.surveys.report import By

EXACT = ConfigDict(extra="forbid")


class Comparison(BaseModel):
    """a − b in points with the 95 % margin of the difference and a two-sided z test."""

    model_config = EXACT
    difference: float | None
    margin_of_error: float | None
    z: float | None
    p_value: float | None
    significant: bool


class NpsFigures(BaseModel):
    """NPS in points (−100..100) with its 95 % interval; none without answers."""

    model_config = EXACT
    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    margin_of_error: float | None
    too_small: bool = Field(description="Fewer than 30 answers: show it, do not read it.")
    low: float | None
    high: float | None


class CsatFigures(BaseModel):
    """CSAT: the percent of 4–5 answers with its Wilson interval."""

    model_config = EXACT
    n: int
    satisfied: int
    csat: float | None
    low: float | None
    high: float | None
    margin_of_error: float | None
    too_small: bool


class CesFigures(BaseModel):
    """CES: the mean of 1..7 with its t interval, and the percent of easy (5–7) answers."""

    model_config = EXACT
    n: int
    mean: float | None
    margin_of_error: float | None
    easy: int
    easy_pct: float | None
    easy_low: float | None
    easy_high: float | None
    too_small: bool


class MeanFigures(BaseModel):
    """A custom scale: the mean score."""

    model_config = EXACT
    n: int
    mean: float | None
    too_small: bool


class GroupKeys(BaseModel):
    """What a group is: its value of `by` (none: answers without one) and/or its period."""

    department: str | None = None
    channel: str | None = None
    touchpoint: str | None = None
    survey: str | None = None
    segment: str | None = None
    period: str | None = Field(None, description="YYYY-MM-DD (a day, a week's Monday) or YYYY-MM.")
    vs_rest: Comparison | None = Field(
        None, description="With `by` and no period: this group against all the others."
    )
    vs_all: Comparison | None = Field(
        None, description="By segment, no period: this segment's members against everyone."
    )


class NpsGroup(GroupKeys, NpsFigures):
    pass


class CsatGroup(GroupKeys, CsatFigures):
    pass


class CesGroup(GroupKeys, CesFigures):
    pass


class MeanGroup(GroupKeys, MeanFigures):
    pass


class Filters(BaseModel):
    """The filters applied (only those given)."""

    model_config = EXACT
    department: str | None = None
    channel: str | None = None
    touchpoint: str | None = None
    since: date | None = None
    until: date | None = None
    segment: str | None = Field(None, description="The segment's name.")


class NpsComparison(Comparison):
    """`compare=A,B`: group A against group B (NPS of each, the difference, the test)."""

    a: NpsGroup
    b: NpsGroup


class ReportOut(BaseModel):
    kind: Kind
    survey: str | None = Field(description="The one survey reported on, by name.")
    by: By | None
    period: Literal["day", "week", "month"] | None
    filters: Filters
    overall: NpsFigures | CsatFigures | CesFigures | MeanFigures
    groups: list[NpsGroup | CsatGroup | CesGroup | MeanGroup]
    comparison: NpsComparison | None = Field(None, description="Only with `compare`.")

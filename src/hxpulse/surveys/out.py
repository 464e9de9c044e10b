"""Survey output shapes: what the survey, invitation, answer and theme routes return, field for
field (the API description names them; a route's answer is checked against its model)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hxpulse.surveys.kinds import Kind
from hxpulse.web.instant import Instant


class Scale(BaseModel):
    """The kind's scale: lowest and highest score and their labels."""

    low: int
    high: int
    low_label: str
    high_label: str


class SurveyOut(BaseModel):
    """A survey as stored, its follow-up question for every band (defaults filled in)."""

    id: int
    name: str
    kind: Kind
    question: str
    followups: dict[str, str] = Field(description="The follow-up question per score band.")
    department: str | None
    touchpoint: str | None
    trigger_event: str | None
    segment_id: int | None
    every_days: int | None
    active: bool
    trigger_cursor: int = Field(description="The newest event a triggered survey has seen.")
    created_at: Instant
    updated_at: Instant
    scale: Scale


class SurveyListed(SurveyOut):
    """A survey with its invitations, answers and response rate (percent, none if no one was
    invited)."""

    invited: int
    answered_invitations: int
    responses: int
    response_rate: float | None


class SurveyList(BaseModel):
    items: list[SurveyListed]


class InvitedOut(BaseModel):
    customer_id: int
    invitation_id: int
    email: str | None
    link: str = Field(description="The signed link that answers the survey.")


class SkippedOut(BaseModel):
    customer_id: int
    reason: str = Field(examples=["said no to surveys"])


class InviteCounts(BaseModel):
    invited: int
    skipped: int


class InviteResultOut(BaseModel):
    """Who was invited, with their links, and who was skipped and why."""

    invited: list[InvitedOut]
    skipped: list[SkippedOut]
    counts: InviteCounts


class InviteOut(InviteResultOut):
    survey: str = Field(description="The survey's name.")


class RunOut(BaseModel):
    surveys: dict[str, InviteResultOut] = Field(
        description="Per survey (by name) that invited anyone: its invitations."
    )


class RefusedAnswer(BaseModel):
    index: int = Field(description="The answer's place in the batch, from 0.")
    field: str = Field(examples=["responses[3].score"])
    message: str


class BatchOut(BaseModel):
    """What became of a batch of answers: good ones stored, replays counted, bad ones listed."""

    received: int
    stored: int
    duplicates: int
    rejected: int
    errors: list[RefusedAnswer]


class AnswerOut(BaseModel):
    """One answer with a why (untrusted text: render it escaped)."""

    id: int
    customer_id: int
    score: int
    band: str
    why: str
    sentiment: float | None
    flagged: bool = Field(description="Needs a follow-up: a detractor or a very negative why.")
    answered_at: Instant
    department: str | None
    channel: str | None
    touchpoint: str | None
    survey: str = Field(description="The survey's name.")
    kind: Kind


class AnswerList(BaseModel):
    items: list[AnswerOut]


class ThemeDriver(BaseModel):
    """A theme among the NPS answers: its NPS and its impact on the overall NPS (positive: it
    holds NPS down)."""

    id: int
    name: str
    words: list[str]
    mentions: int
    share: float | None = Field(description="Percent of the answers that mention it.")
    nps: float | None
    too_small: bool
    impact: float | None


class ThemeDrivers(BaseModel):
    answers: int
    nps: float | None
    themes: list[ThemeDriver]


class FitOut(BaseModel):
    themes: int = Field(description="Themes found.")
    answers: int = Field(description="Answers read.")


class ThemeOut(BaseModel):
    """A theme as stored: its words with their weights."""

    id: int
    model_id: int
    position: int
    name: str
    words: list[tuple[str, float]]
    merged_into_id: int | None
    created_at: Instant

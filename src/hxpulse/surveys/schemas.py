"""Survey input shapes: a survey definition, one answer or a batch (API, import), an
invitation and the changes to a theme."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    StrictInt,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from hxpulse.db.base import MAX_ID
from hxpulse.events.moments import Moment
from hxpulse.events.schemas import Channel
from hxpulse.surveys.kinds import SPECS, Kind


class SurveyIn(BaseModel):
    """A survey definition (`POST /api/surveys`, the survey form)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    kind: Kind = "nps"
    question: str | None = Field(
        None, max_length=500, description="Default: the kind's question with the brand's name."
    )
    followups: dict[str, str] = Field(
        default_factory=dict, description="Follow-up question per score band (others default)."
    )
    department: str | None = Field(None, max_length=100)
    touchpoint: str | None = Field(None, max_length=100)
    trigger_event: str | None = Field(
        None, max_length=200, description="Invite after each event of this type (a rule)."
    )
    segment_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Recurring: invite this segment's members."
    )
    every_days: int | None = Field(None, ge=1, le=3650, description="Recurring: every N days.")
    active: bool = True

    @model_validator(mode="after")
    def _check(self) -> SurveyIn:
        bands = {band.name for band in SPECS[self.kind].bands}
        unknown = sorted(set(self.followups) - bands)
        if unknown:
            raise ValueError(
                f"followups: unknown band(s) {', '.join(unknown)}; "
                f"{self.kind} has {', '.join(sorted(bands))}"
            )
        for band, text in self.followups.items():
            if not text.strip() or len(text) > 500:
                raise ValueError(f"followups.{band}: give a question of 1 to 500 characters")
        if (self.segment_id is None) != (self.every_days is None):
            raise ValueError("a recurring survey needs both segment_id and every_days")
        return self


class ResponseCreate(BaseModel):
    """One answer to a survey run elsewhere (`POST /api/responses`, `import responses`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    survey: str = Field(min_length=1, max_length=200, description="The survey's name (or id).")
    score: int
    answered_at: Moment
    why: str | None = Field(None, max_length=5000)
    # an NPS answer also stores an event `<message_id>:<band>`, which must fit in 200
    message_id: str | None = Field(None, min_length=1, max_length=180)
    user_id: str | None = Field(None, max_length=320)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    anonymous_id: str | None = Field(None, max_length=320)
    external_id: str | None = Field(None, max_length=320)
    department: str | None = Field(None, max_length=100)
    channel: Channel | None = None
    touchpoint: str | None = Field(None, max_length=100)


MAX_RESPONSES = 5000  # answers per request


class ResponseBatch(BaseModel):
    """Up to 5,000 answers (`POST /api/responses`). Each is checked on its own: the good ones
    are stored, the others listed with their index and field (other keys here are ignored)."""

    responses: list[ResponseCreate] = Field(min_length=1, max_length=MAX_RESPONSES)


class ResponsesIn(RootModel[ResponseBatch | ResponseCreate]):
    """The body of `POST /api/responses`: a batch, or one answer on its own (refused with a 400
    when it is not good)."""


def _ref(value: object) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("give an id (a whole number) or a text")
    return value


Ref = Annotated[
    str | int,
    PlainValidator(_ref),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
]


class InviteIn(BaseModel):
    """Whom to invite (`POST /api/surveys/{id}/invite`): customers and/or a segment's members."""

    model_config = ConfigDict(extra="forbid")

    customer: Ref | None = Field(None, description="A customer's id or identity.")
    customers: list[Ref] | None = Field(None, description="Customers' ids or identities.")
    segment: Ref | None = Field(None, description="A segment's id or name.")
    via: Literal["email", "link"] | None = Field(
        None, description="Default: email when an SMTP server is configured, else links."
    )

    def refs(self) -> list[str]:
        """Everyone named, `customer` first, as the text `customers.queries.find` takes."""
        named = ([self.customer] if self.customer is not None else []) + (self.customers or [])
        return [str(ref) for ref in named]


class ThemeRename(BaseModel):
    """A theme's new name (`PATCH /api/themes/{id}`); other keys are ignored."""

    name: Annotated[
        StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]


class ThemeMerge(BaseModel):
    """The theme to fold this one into (`POST /api/themes/{id}/merge`); other keys are ignored."""

    into: StrictInt = Field(ge=1, le=MAX_ID, description="The id of the theme that stays.")

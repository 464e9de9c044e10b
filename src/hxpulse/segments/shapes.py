"""Segment bodies and answers for the API: what the routes read (validated with these very
models, so the description and the check cannot drift) and what they return."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictStr,
    StringConstraints,
    ValidationError,
)

from hxpulse.config import Live
from hxpulse.errors import Invalid
from hxpulse.segments import schemas as s
from hxpulse.segments.service import EXPORT_COLUMNS
from hxpulse.web.checked import problems, summary
from hxpulse.web.instant import Instant

Name = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
M = TypeVar("M", bound=BaseModel)
MESSAGES = {
    "name": "a name of 1 to 200 characters is required",
    "description": "text of at most 2000 characters",
}


# what /docs shows (and the fuzzer starts from): app customers who bought twice in 90 days
EXAMPLE: dict[str, JsonValue] = {
    "all": [
        {"field": "stage", "op": "gte", "value": "customer"},
        {"event": {"type": "purchase", "channel": "app", "within_days": 90, "min_count": 2}},
    ]
}


class SegmentDraft(BaseModel):
    """A definition to count (`POST /api/segments/count`); a name and description may come
    along with it and are not read."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"definition": EXAMPLE}]})  # fmt: skip

    definition: s.Condition = Field(description="The condition customers must meet.")
    name: Any = Field(None, description="Not read.")
    description: Any = Field(None, description="Not read.")


class SegmentIn(BaseModel):
    """A saved segment (`POST /api/segments`, `PUT /api/segments/{id}`); names are unique,
    whatever their case."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "App regulars", "description": "Bought twice in the app",
         "definition": EXAMPLE}]})  # fmt: skip

    name: Name
    description: StrictStr | None = Field(None, max_length=2000)
    definition: s.Condition = Field(description="The condition customers must meet.")


def _place(loc: tuple[int | str, ...]) -> str:
    if loc and loc[0] == "definition":
        return s.where(loc[1:])  # definition.all[1].op, as the definition's own errors say
    return ".".join(str(part) for part in loc)


def parse(model: type[M], body: Any, live: Live) -> M:
    """`body` as `model`, with stages and bands from the configuration; Invalid (400) names
    every wrong place. (The service checks the definition's size when it reads it.)"""
    try:
        data = model.model_validate(body, context=s.context(live))
    except ValidationError as exc:
        errors = problems(model, exc, place=_place, messages=MESSAGES)
        text = summary(errors)
        inside = [e for e in errors if e["field"].startswith("definition")]
        if (
            len(inside) == len(errors)
            and {"field": "definition", "message": "required"} not in inside
        ):
            text = f"the segment definition is not valid: {text}"
        raise Invalid(text, errors=errors) from None
    return data


class SegmentOut(BaseModel):
    """A saved segment; its definition as stored (see `SegmentIn.definition`)."""

    id: int
    name: str
    description: str | None
    definition: dict[str, Any]
    created_at: Instant
    updated_at: Instant


class SegmentCounted(SegmentOut):
    count: int = Field(description="How many customers it matches now.")


class SegmentListed(SegmentOut):
    count: int | None = Field(description="How many customers it matches now; none with an error.")
    error: str | None = Field(
        None, description="Only when the configuration changed under the definition."
    )


class SegmentList(BaseModel):
    items: list[SegmentListed]


class Count(BaseModel):
    count: int


class Member(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    stage: str
    pulse: float
    band: str
    created_at: Instant


class SegmentRef(BaseModel):
    id: int
    name: str


class MembersPage(BaseModel):
    """One page of members, by customer id."""

    segment: SegmentRef
    items: list[Member]
    limit: int
    offset: int


CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Every member as CSV (UTF-8), after a header line: "
        + ", ".join(EXPORT_COLUMNS),
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

"""JSON shapes of the rules API: rules with their counts, firings, and the dry run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hxpulse.errors import Invalid


class TriggerOut(BaseModel):
    kind: str = Field(description="event | stage | band | pulse | case")
    name: str
    text: str = Field(description="The trigger in words.")


class CapOut(BaseModel):
    per_customer: int
    within_hours: float


class RuleOut(BaseModel):
    name: str
    description: str
    enabled: bool
    trigger: TriggerOut
    when: list[str] = Field(description="The conditions, each as `field op value`.")
    actions: list[dict[str, Any]]
    cap: CapOut | None
    firings: int = Field(description="Times it fired and wrote its actions.")
    capped: int = Field(description="Times a frequency cap held it back.")


class RuleList(BaseModel):
    items: list[RuleOut]


class FiringOut(BaseModel):
    id: int
    rule: str
    customer_id: int
    trigger_kind: str
    trigger_name: str
    cause: str = Field(description="A message id, `case:N`, `decay@<moment>`, `band:…@…`.")
    actions: list[dict[str, Any]] = Field(description="The outbox keys it wrote.")
    capped: bool
    fired_at: datetime


class FiringList(BaseModel):
    items: list[FiringOut]


class RuleDetail(RuleOut):
    recent: list[FiringOut] = Field(description="Its latest firings, newest first.")


class TestEvent(BaseModel):
    """The event a dry run imagines (as the rule's conditions read it)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=100)
    message_id: str = Field("dry-run", min_length=1, max_length=200)
    channel: str = Field("other", max_length=20)
    department: str | None = Field(None, max_length=100)
    value: float | None = Field(None, allow_inf_nan=False)
    name: str | None = Field(None, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class RuleTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: TestEvent
    customer: str | None = Field(
        None, max_length=400, description="Whose state the conditions read (any identity)."
    )


class Reason(BaseModel):
    condition: str
    held: bool
    actual: Any = None


class PlannedAction(BaseModel):
    kind: str
    key: str
    payload: dict[str, Any]


class RuleTestOut(BaseModel):
    rule: str
    trigger: str
    matched: bool = Field(description="Whether the event is the rule's trigger.")
    assumed: bool = Field(description="The rule's trigger is not an event: taken as happened.")
    fires: bool
    capped: bool
    reasons: list[Reason]
    actions: list[PlannedAction] = Field(description="What would be written to the outbox.")
    held_back: list[dict[str, Any]] = Field(description="Actions their own caps would hold.")


def parse_test(body: Any) -> RuleTestIn:
    """`body` as a dry run's input; Invalid (400) naming the field otherwise."""
    try:
        return RuleTestIn.model_validate(body)
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                  for e in exc.errors()]  # fmt: skip
        text = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Invalid(f"the test is not valid: {text}", errors=errors) from None

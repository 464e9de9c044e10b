"""The `[[rules]]` of hxpulse.toml: trigger → conditions → actions, checked at load.

Plain pydantic models (no database): a bad rule is refused when the settings load, with the
field at fault (`rules.2.actions.0.webhook: …`). `RuleBook` indexes the rules by trigger, so the
ingest step asks one dict per event and nothing else when no rule's trigger matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hxpulse.analytics.pulse import BANDS

TriggerKind = Literal["event", "stage", "band", "pulse", "case"]
CaseMoment = Literal["opened", "breached", "resolved"]
Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists"]
NAME = r"^[a-z0-9][a-z0-9_.-]{0,59}$"
FIELD = re.compile(
    r"^(event\.(type|channel|department|value|name|source|message_id)"
    r"|event\.properties\.[^\s]{1,100}|trigger\.[A-Za-z0-9_]{1,60}|traits\.[^\s]{1,100}"
    r"|consent\.[A-Za-z0-9_-]{1,60}|stage|band|pulse|clv|p_alive|segment)$"
)
ACTION_KINDS = ("open_case", "invite_survey", "notify_customer", "notify_team", "webhook",
                "email", "record_investment", "send_offer")  # fmt: skip


def band_name(name: str) -> str:
    """Band names as `analytics.pulse.BANDS` spells them (`at_risk` is `at-risk`)."""
    return name.strip().lower().replace("_", "-")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleTrigger(_Strict):
    """What starts a rule: exactly one of an event (optionally in a survey band), entering a
    stage (optionally from one), entering a pulse band, the pulse decaying below a threshold,
    or a moment of a case."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    event: str | None = Field(None, min_length=1, max_length=100)
    band: str | None = Field(None, min_length=1, max_length=40)
    stage: str | None = Field(None, min_length=1, max_length=40)
    from_stage: str | None = Field(None, alias="from", min_length=1, max_length=40)
    pulse_below: float | None = Field(None, gt=0, allow_inf_nan=False)
    case: CaseMoment | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [n for n in ("event", "stage", "pulse_below", "case") if getattr(self, n)]
        if self.band and not self.event:
            given.append("band")
        if len(given) != 1:
            raise ValueError("give exactly one of event (with an optional band), stage, band,"
                             f" pulse_below or case; got {given or 'none'}")  # fmt: skip
        if self.from_stage and not self.stage:
            raise ValueError("'from' goes with a stage trigger only")
        return self

    @property
    def kind(self) -> TriggerKind:
        if self.event:
            return "event"
        if self.stage:
            return "stage"
        if self.band:
            return "band"
        return "pulse" if self.pulse_below is not None else "case"

    @property
    def name(self) -> str:
        """The trigger's name as `rules.service.Trigger.name` carries it."""
        if self.event:
            return self.event
        if self.stage:
            return self.stage
        if self.band:
            return band_name(self.band)
        return f"below:{self.pulse_below:g}" if self.pulse_below is not None else str(self.case)

    def describe(self) -> str:
        if self.event:
            return f"event {self.event}" + (f" in band {self.band}" if self.band else "")
        if self.stage:
            return f"enters stage {self.stage}" + (f" from {self.from_stage}"
                                                   if self.from_stage else "")  # fmt: skip
        if self.band:
            return f"enters band {band_name(self.band)}"
        if self.pulse_below is not None:
            return f"pulse decays below {self.pulse_below:g}"
        return f"case {self.case}"


class Condition(_Strict):
    """`field op value`: event.*, trigger.*, traits.*, stage, band, pulse, clv, p_alive,
    consent.*, segment."""

    field: str = Field(max_length=200)
    op: Op = "eq"
    value: Any = None

    @field_validator("field")
    @classmethod
    def _known(cls, value: str) -> str:
        if not FIELD.match(value):
            raise ValueError(f"unknown field {value[:60]!r}: use event.type|channel|department|"
                             "value, event.properties.X, trigger.X, traits.X, stage, band, pulse,"
                             " clv, p_alive, consent.PURPOSE or segment")  # fmt: skip
        return value

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("op 'in' needs a list as its value")
        if self.op == "exists" and not isinstance(self.value, bool | None):
            raise ValueError("op 'exists' takes true, false or no value")
        if self.op in ("gt", "gte", "lt", "lte") and not isinstance(self.value, int | float):
            raise ValueError(f"op {self.op!r} needs a number as its value")
        if self.field == "segment" and (self.op not in ("eq", "ne") or not self.value):
            raise ValueError("segment takes op eq (member) or ne (not a member) and the"
                             " segment's name or id as its value")  # fmt: skip
        if self.op not in ("exists",) and self.value is None:
            raise ValueError(f"op {self.op!r} needs a value")
        return self

    def describe(self) -> str:
        return f"{self.field} {self.op}" + ("" if self.value is None else f" {self.value!r}")


class Cap(_Strict):
    """At most `per_customer` firings per customer within `within_hours`."""

    per_customer: int = Field(ge=1, le=1_000_000)
    within_hours: float = Field(gt=0, le=24 * 3650, allow_inf_nan=False)


class OpenCase(_Strict):
    reason: str | None = Field(None, max_length=500)
    priority: str | None = Field(None, max_length=40)
    team: str | None = Field(None, max_length=100)
    owner: str | None = Field(None, max_length=320)


class InviteSurvey(_Strict):
    survey: str = Field(min_length=1, max_length=200)


class NotifyCustomer(_Strict):
    title: str = Field(min_length=1, max_length=200)
    message: str = Field("", max_length=2000)


class NotifyTeam(_Strict):
    team: str | None = Field(None, max_length=100, description="None: everyone.")
    message: str = Field(min_length=1, max_length=2000)


class Email(_Strict):
    template: str = Field(min_length=1, max_length=100)
    subject: str = Field("", max_length=200)
    to: str | None = Field(None, max_length=320, description="None: the customer's address.")


class RecordInvestment(_Strict):
    type: str = Field("personal_outreach", min_length=1, max_length=100)
    name: str | None = Field(None, max_length=200)


class SendOffer(_Strict):
    """Send the customer's next best offer, picked when the action is delivered."""

    via: Literal["notify", "webhook"] = Field(
        "notify", description="notify: their live feed and email by preference; webhook: POST."
    )
    webhook: str | None = Field(None, min_length=1, max_length=100,
                                description="The endpoint (via = webhook).")  # fmt: skip
    title: str = Field("An offer for you", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _endpoint(self) -> Self:
        if (self.via == "webhook") != (self.webhook is not None):
            raise ValueError("via = 'webhook' goes with a webhook endpoint, and only it")
        return self


class RuleAction(_Strict):
    """Exactly one action, and optionally a cap of its own."""

    open_case: OpenCase | None = None
    invite_survey: InviteSurvey | None = None
    notify_customer: NotifyCustomer | None = None
    notify_team: NotifyTeam | None = None
    webhook: str | None = Field(None, min_length=1, max_length=100)
    email: Email | None = None
    record_investment: RecordInvestment | None = None
    send_offer: SendOffer | None = None
    cap: Cap | None = None

    @field_validator("open_case", "record_investment", "send_offer", mode="before")
    @classmethod
    def _true_is_defaults(cls, value: object) -> object:
        return {} if value is True else value

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [n for n in ACTION_KINDS if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(ACTION_KINDS)}; got"
                             f" {given or 'none'}")  # fmt: skip
        return self

    @property
    def name(self) -> str:
        return next(n for n in ACTION_KINDS if getattr(self, n) is not None)


class Rule(_Strict):
    """One rule: when `trigger` happens and every condition in `when` holds, write `actions`."""

    name: str = Field(pattern=NAME)
    description: str = Field("", max_length=500)
    enabled: bool = True
    trigger: RuleTrigger
    when: tuple[Condition, ...] = ()
    actions: tuple[RuleAction, ...] = Field(min_length=1, max_length=20)
    cap: Cap | None = None


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule.model_validate({
        "name": "detractor-opens-case",
        "description": "A detractor answer opens a case (the closed loop).",
        "trigger": {"event": "detractor"},
        "actions": [{"open_case": {"reason": "Detractor answer"}}],
    }),
    Rule.model_validate({
        "name": "complaint-opens-case",
        "description": "A complaint opens a case.",
        "trigger": {"event": "complaint"},
        "actions": [{"open_case": {"reason": "Complaint"}}],
    }),
    Rule.model_validate({
        "name": "promoter-asks-referral",
        "description": "A promoter answer asks for a referral or a review: by email (with"
                       " marketing consent) and on the survey's thank-you page; the ask is"
                       " recorded as a referral_ask investment. Once per customer per 30 days.",
        "trigger": {"event": "promoter"},
        "cap": {"per_customer": 1, "within_hours": 720},
        "actions": [{"email": {"template": "referral_ask"}},
                    {"record_investment": {"type": "referral_ask", "name": "Referral ask"}}],
    }),
)  # fmt: skip


def over_defaults(value: object) -> object:
    """Rules in the file replace the default of the same name (`enabled = false` turns one
    off) or add to them; names must be unique in the file."""
    if not isinstance(value, list | tuple):
        return value
    names = [item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
             for item in value]  # fmt: skip
    seen: set[Any] = set()
    for index, name in enumerate(names):
        if name is not None and name in seen:
            raise ValueError(f"rules[{index}].name: {name!r} is given twice; names are unique")
        seen.add(name)
    return list(value) + [r for r in DEFAULT_RULES if r.name not in seen]  # file's indices kept


def check_names(rules: Iterable[Rule], *, stages: list[str]) -> list[str]:
    """What in `rules` names a stage or band that does not exist (messages naming the field)."""
    known_bands = set(BANDS)
    problems = []
    for index, rule in enumerate(rules):
        trigger = rule.trigger
        for key, value in (("stage", trigger.stage), ("from", trigger.from_stage)):
            if value is not None and value not in stages:
                problems.append(f"rules[{index}].trigger.{key}: unknown stage {value!r}"
                                f" (stages: {', '.join(stages)})")  # fmt: skip
        if trigger.kind == "band" and band_name(trigger.band or "") not in known_bands:
            problems.append(f"rules[{index}].trigger.band: unknown band {trigger.band!r}"
                            f" (bands: {', '.join(sorted(known_bands))})")  # fmt: skip
    return problems


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The enabled rules, indexed by what triggers them."""

    rules: tuple[Rule, ...] = field(default=DEFAULT_RULES, hash=False)  # Live stays hashable
    # an event (or a change of stage) older than this when it arrives triggers nothing: an
    # import of last year's history opens no cases today
    max_age: timedelta = field(default=timedelta(hours=72), compare=False, hash=False)
    events: dict[str, tuple[Rule, ...]] = field(
        default_factory=dict, init=False, compare=False, hash=False
    )
    by_kind: dict[str, tuple[Rule, ...]] = field(
        default_factory=dict, init=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        events: dict[str, list[Rule]] = {}
        kinds: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if not rule.enabled:
                continue
            kinds.setdefault(rule.trigger.kind, []).append(rule)
            if rule.trigger.event:
                events.setdefault(rule.trigger.event, []).append(rule)
        self.events.update({k: tuple(v) for k, v in events.items()})
        self.by_kind.update({k: tuple(v) for k, v in kinds.items()})

    def of(self, kind: str) -> tuple[Rule, ...]:
        return self.by_kind.get(kind, ())

    def get(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

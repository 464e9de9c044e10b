"""The segment condition language: a tree of Pydantic models, stored as JSON in `definition`.

```
{"all": [C, ...]}  {"any": [C, ...]}  {"not": C}
{"field": "stage", "op": "gte", "value": "customer"}
{"trait": "address.city", "op": "eq", "value": "Lyon"}
{"consent": "email_marketing", "status": "granted"}
{"identity": "email", "op": "ends_with", "value": "@example.com"}
{"event": {"type": "purchase", "channel": "app", "within_days": 90, "min_count": 2}}
```

Profile fields live in one table, `FIELDS` (allowed operators and value kind per field), so a
new field (for example `clv`, once lifetime value is stored on profiles) is one entry here and
one column in `service.FIELD_COLUMNS`. Names that depend on the configuration (stages, bands)
are checked against the validation context `{"stages": [...], "bands": [...]}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hxpulse.analytics.pulse import BANDS
from hxpulse.config import Live
from hxpulse.errors import Invalid
from hxpulse.events.models import CHANNELS
from hxpulse.events.moments import to_utc

Op = Literal["eq", "ne", "in", "lt", "lte", "gt", "gte", "contains", "exists"]
ORDER_OPS = ("lt", "lte", "gt", "gte")
KINDS = ("all", "any", "not", "field", "trait", "consent", "identity", "event")
KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ \-]{0,99}$")
MAX_DEPTH, MAX_CONDITIONS, MAX_LIST = 8, 100, 500


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a profile field accepts: its operators and the kind of its value."""

    ops: tuple[str, ...]
    value: Literal["stage", "band", "number", "integer", "bool", "moment", "text"]


FIELDS: dict[str, FieldSpec] = {
    "stage": FieldSpec(("eq", "ne", "in", *ORDER_OPS), "stage"),
    "band": FieldSpec(("eq", "ne", "in"), "band"),
    "pulse": FieldSpec(ORDER_OPS, "number"),
    "open_negatives": FieldSpec(("eq", "ne", "in", *ORDER_OPS), "integer"),
    "detractor": FieldSpec(("eq", "ne"), "bool"),
    "lapsed": FieldSpec(("eq", "ne"), "bool"),
    "at_risk": FieldSpec(("eq", "ne"), "bool"),
    "created_at": FieldSpec(ORDER_OPS, "moment"),
    "last_return_at": FieldSpec((*ORDER_OPS, "exists"), "moment"),
    "name": FieldSpec(("eq", "ne", "in", "contains", "exists"), "text"),
    "clv": FieldSpec((*ORDER_OPS, "exists"), "number"),  # the last `fit clv`; none: false
    "p_alive": FieldSpec((*ORDER_OPS, "exists"), "number"),
}
FieldName = Literal[
    "stage",
    "band",
    "pulse",
    "open_negatives",
    "detractor",
    "lapsed",
    "at_risk",
    "created_at",
    "last_return_at",
    "name",
    "clv",
    "p_alive",
]
TRAIT_OPS = ("eq", "ne", "in", "lt", "lte", "gt", "gte", "contains", "exists")
Scalar = str | int | float | bool


def _names(info: ValidationInfo, key: str, default: list[str]) -> list[str]:
    context = info.context if isinstance(info.context, dict) else {}
    names = context.get(key)
    return list(names) if names is not None else default


def _one_of(value: object, allowed: list[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"unknown {what} {value!r}: use one of {', '.join(allowed)}")
    return value


def _as_list(value: object) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError("'in' needs a non-empty list of values")
    if len(value) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} values")
    return value


def _number(value: object, *, integer: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("expected a finite number")
    if integer and not float(value).is_integer():
        raise ValueError(f"expected a whole number, got {value!r}")
    number = int(value) if integer else value
    if isinstance(number, int) and not -(2**63) <= number < 2**63:  # no database holds it
        if integer:
            raise ValueError(f"{number} is beyond the whole numbers a database holds (±2^63)")
        return float(number)
    return number


def _moment(value: object) -> str | dict[str, float]:
    """A moment: an ISO 8601 date or time, or `{"days_ago": N}` (evaluated when counted)."""
    if isinstance(value, dict):
        if set(value) != {"days_ago"}:
            raise ValueError('expected an ISO 8601 time or {"days_ago": N}')
        days = _number(value["days_ago"])
        if not 0 <= days <= 36_500:
            raise ValueError("days_ago must be between 0 and 36500")
        return {"days_ago": days}
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date or time") from None
        to_utc(parsed)  # raises OutOfRange (a ValueError) past what UTC can hold
        return value
    raise ValueError('expected an ISO 8601 time or {"days_ago": N}')


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 320:
        raise ValueError("expected a non-empty text of at most 320 characters")
    return value


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class FieldCondition(Node):
    """A profile field: stage, band, pulse, overlays, dates, name, lifetime value."""

    kind: ClassVar[str] = "field"

    field: FieldName
    op: Op
    value: Any = Field(None, validate_default=True)

    @field_validator("op")
    @classmethod
    def _op_fits(cls, op: str, info: ValidationInfo) -> str:
        spec = FIELDS.get(info.data.get("field", ""))
        if spec is not None and op not in spec.ops:
            field = info.data["field"]
            raise ValueError(f"{field!r} takes the operators {', '.join(spec.ops)}, not {op!r}")
        return op

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Any:
        if "field" not in info.data or "op" not in info.data:
            return value
        spec, op = FIELDS[info.data["field"]], info.data["op"]
        if op == "exists":
            return _bool(True if value is None else value)
        if op == "in":
            return [_one_value(spec.value, v, info) for v in _as_list(value)]
        return _one_value(spec.value, value, info)


def _required(value: object) -> None:
    if value is None:
        raise ValueError("a value is required with this operator")


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _one_value(kind: str, value: object, info: ValidationInfo) -> Any:
    _required(value)
    if kind == "stage":
        return _one_of(value, _names(info, "stages", []), "stage")
    if kind == "band":
        return _one_of(value, _names(info, "bands", list(BANDS)), "band")
    if kind in ("number", "integer"):
        return _number(value, integer=kind == "integer")
    if kind == "bool":
        return _bool(value)
    if kind == "moment":
        return _moment(value)
    return _text(value)


def _key(value: str, what: str) -> str:
    parts = value.split(".")
    if len(parts) > 5 or not all(KEY.match(p) for p in parts):
        raise ValueError(f"{what} {value!r}: letters, digits, _ - and spaces, dots between levels")
    return value


class TraitCondition(Node):
    """A trait on the profile, by key or dotted path (`address.city`)."""

    kind: ClassVar[str] = "trait"

    trait: str
    op: Op
    value: Any = Field(None, validate_default=True)

    @field_validator("trait")
    @classmethod
    def _path(cls, value: str) -> str:
        return _key(value, "trait")

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op == "exists":
            return _bool(True if value is None else value)
        _required(value)
        if op == "in":
            return [_scalar(v) for v in _as_list(value)]
        if op in ORDER_OPS:
            return value if isinstance(value, str) and value else _number(value)
        if op == "contains":
            return _text(value)
        return _scalar(value)


def _scalar(value: object) -> Scalar:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _number(value)
    return _text(value)


class ConsentCondition(Node):
    """The answer recorded for a consent purpose (`unknown`: none recorded)."""

    kind: ClassVar[str] = "consent"

    consent: str
    status: Literal["granted", "denied", "unknown"] = "granted"

    @field_validator("consent")
    @classmethod
    def _purpose(cls, value: str) -> str:
        if "." in value:
            raise ValueError("a consent purpose has no dots")
        return _key(value, "consent purpose")


class IdentityCondition(Node):
    """An identity of a kind: present, equal to a value, or ending with a suffix."""

    kind: ClassVar[str] = "identity"

    identity: Literal["email", "phone", "user_id", "anonymous_id", "social", "external_id"]
    op: Literal["exists", "eq", "ends_with"] = "exists"
    value: Any = Field(None, validate_default=True)

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("op", "exists") == "exists":
            return _bool(True if value is None else value)
        _required(value)
        return _text(value)


def _strings(value: object, allowed: tuple[str, ...] | None, what: str) -> list[str]:
    values: list[Any] = value if isinstance(value, list) else [value]
    if not values or len(values) > MAX_LIST:
        raise ValueError(f"give one {what} or a list of 1 to {MAX_LIST}")
    for v in values:
        if not isinstance(v, str) or not 0 < len(v) <= 200:
            raise ValueError(f"each {what} is a non-empty text")
        if allowed is not None and v not in allowed:
            raise ValueError(f"unknown {what} {v!r}: use one of {', '.join(allowed)}")
    return values


class EventSpec(Node):
    """How many matching events a customer had (in the last `within_days`, if set)."""

    type: str | list[str] | None = None
    channel: str | list[str] | None = None
    department: str | list[str] | None = None
    within_days: float | None = Field(None, gt=0, le=36_500, allow_inf_nan=False)
    min_count: int = Field(1, ge=0, le=1_000_000)
    max_count: int | None = Field(None, ge=0, le=1_000_000)
    min_value: float | None = Field(None, allow_inf_nan=False)
    min_total: float | None = Field(None, allow_inf_nan=False)

    @field_validator("type", "department", mode="before")
    @classmethod
    def _names(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return None
        found = _strings(value, None, info.field_name or "value")
        return found[0] if len(found) == 1 and not isinstance(value, list) else found

    @field_validator("channel", mode="before")
    @classmethod
    def _channels(cls, value: object) -> object:
        if value is None:
            return None
        found = _strings(value, CHANNELS, "channel")
        return found[0] if len(found) == 1 and not isinstance(value, list) else found

    @model_validator(mode="after")
    def _counts(self) -> EventSpec:
        if self.max_count is not None and self.max_count < self.min_count:
            raise ValueError("max_count must be at least min_count")
        if self.min_count == 0 and self.max_count is None:
            raise ValueError("min_count 0 without max_count matches everyone: set max_count")
        if self.min_total is not None and self.min_count == 0:
            raise ValueError("min_total needs min_count of at least 1")
        return self

    def types(self) -> list[str] | None:
        return _listed(self.type)

    def channels(self) -> list[str] | None:
        return _listed(self.channel)

    def departments(self) -> list[str] | None:
        return _listed(self.department)


def _listed(value: str | list[str] | None) -> list[str] | None:
    return None if value is None else [value] if isinstance(value, str) else value


class EventCondition(Node):
    kind: ClassVar[str] = "event"
    event: EventSpec


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [k for k in KINDS if k in value]
        return found[0] if len(found) == 1 else None
    return getattr(value, "kind", None)


class AllOf(Node):
    kind: ClassVar[str] = "all"
    all_: list[Condition] = Field(alias="all", min_length=1, max_length=MAX_CONDITIONS)


class AnyOf(Node):
    kind: ClassVar[str] = "any"
    any_: list[Condition] = Field(alias="any", min_length=1, max_length=MAX_CONDITIONS)


class NotOf(Node):
    kind: ClassVar[str] = "not"
    not_: Condition = Field(alias="not")


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[FieldCondition, Tag("field")]
    | Annotated[TraitCondition, Tag("trait")]
    | Annotated[ConsentCondition, Tag("consent")]
    | Annotated[IdentityCondition, Tag("identity")]
    | Annotated[EventCondition, Tag("event")],
    Discriminator(
        _kind,
        custom_error_type="condition",
        custom_error_message=(
            "a condition is an object with exactly one of the keys: " + ", ".join(KINDS)
        ),
    ),
]

for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


class Definition(BaseModel):
    """The root of a definition, so that it validates like any model."""

    root: Condition


def where(loc: tuple[int | str, ...], prefix: str = "definition") -> str:
    """Turn a Pydantic error location into `definition.all[1].op` (dropping union tags)."""
    out, at_union, parent = prefix, True, ""
    for part in loc:
        if at_union:
            at_union = False
            if isinstance(part, str) and part in KINDS:
                continue
        if isinstance(part, int):
            out += f"[{part}]"
            at_union = parent in ("all", "any")
        else:
            out += f".{part}"
            parent = part
            at_union = part == "not"
    return out


def context(live: Live) -> dict[str, list[str]]:
    return {"stages": live.journey.stage_names, "bands": list(BANDS)}


def parse(definition: Any, live: Live, *, prefix: str = "definition") -> Definition:
    """Validate `definition` against the configuration; Invalid names every wrong place."""
    try:
        parsed = Definition.model_validate({"root": definition}, context=context(live))
    except ValidationError as exc:
        errors = []
        for e in exc.errors(include_url=False):
            message = e["msg"].removeprefix("Value error, ")
            errors.append({"field": where(tuple(e["loc"][1:]), prefix), "message": message})
        text = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise Invalid(f"the segment definition is not valid: {text}", errors=errors) from None
    _check_size(parsed.root, prefix)
    return parsed


def _check_size(root: Any, prefix: str) -> None:
    count, deepest = 0, 0
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count, deepest = count + 1, max(deepest, depth)
        if isinstance(node, AllOf | AnyOf):
            stack.extend(
                (child, depth + 1)
                for child in (node.all_ if isinstance(node, AllOf) else node.any_)
            )
        elif isinstance(node, NotOf):
            stack.append((node.not_, depth + 1))
    if deepest > MAX_DEPTH or count > MAX_CONDITIONS:
        message = f"at most {MAX_CONDITIONS} conditions nested at most {MAX_DEPTH} deep"
        raise Invalid(
            f"the segment definition is too large: {message}",
            errors=[{"field": prefix, "message": message}],
        )


def dump(parsed: Definition) -> dict[str, Any]:
    """The definition as stored: JSON, keys by their public names, unset options left out."""
    data: dict[str, Any] = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    root: dict[str, Any] = data["root"]
    return root

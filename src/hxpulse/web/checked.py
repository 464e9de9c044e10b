"""Validate a body a route has read itself (`hxpulse.web.body`) against its Pydantic model, the
very model `openapi.body()` names in the description, with a 400 that says field and problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hxpulse.errors import Invalid

M = TypeVar("M", bound=BaseModel)


def problems(
    model: type[BaseModel],
    exc: ValidationError,
    *,
    place: Callable[[tuple[int | str, ...]], str] | None = None,
    messages: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Each error as `{"field", "message"}`: `place` turns a location into a field name (the
    default joins it with dots), `messages` replaces the message for a top-level field, an
    unknown top-level key lists the keys there are."""
    keys = ", ".join(f.alias or name for name, f in model.model_fields.items())
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        field = (place or _dotted)(loc) or "body"
        if error["type"] == "extra_forbidden" and len(loc) == 1:
            message = f"unknown key; use {keys}"
        elif messages and loc and str(loc[0]) in messages:
            message = messages[str(loc[0])]
        elif error["type"] == "missing":
            message = "required"
        else:
            message = error["msg"].removeprefix("Value error, ")
        out.append({"field": field, "message": message})
    return out


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def summary(errors: list[dict[str, Any]], most: int = 5) -> str:
    """`field: problem; other: problem` for the first `most` problems."""
    return "; ".join(f"{e['field']}: {e['message']}" for e in errors[:most])


def validated(
    model: type[M],
    data: Any,
    *,
    context: dict[str, Any] | None = None,
    messages: dict[str, str] | None = None,
) -> M:
    """`data` as `model`, or Invalid (400) naming every field that is wrong and how."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = problems(model, exc, messages=messages)
        raise Invalid(summary(errors), errors=errors) from None

"""Query parameters of the customer list and page, read as typed in an address: whole numbers
and choices, checked by the service so that a bad one answers 400 naming it (FastAPI's own
checks answer 422), the value never echoed (it may be huge)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hxpulse.errors import Invalid

Problems = list[dict[str, str]]


def whole(
    problems: Problems, field: str, text: str | None, *, default: int, low: int, high: int
) -> int:
    """`text` as a whole number from `low` to `high`; `default` when it is absent or blank."""
    if text is None or not text.strip():
        return default
    text = text.strip()
    if len(text) <= 19 and text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    problems.append({"field": field, "message": f"a whole number from {low} to {high}"})
    return default


def optional_whole(
    problems: Problems, field: str, text: str | None, *, low: int, high: int
) -> int | None:
    """`text` as a whole number from `low` to `high`, or None when it is absent or blank."""
    if text is None or not text.strip():
        return None
    found = whole(problems, field, text, default=0, low=low, high=high)
    return found or None


def choice(
    problems: Problems, field: str, text: str | None, options: Sequence[str], *, default: str
) -> str:
    """`text` as one of `options`; `default` when it is absent or blank."""
    if text is None or not text.strip():
        return default
    if text.strip() in options:
        return text.strip()
    problems.append({"field": field, "message": f"one of {', '.join(options)}"})
    return default


def check(problems: Problems) -> None:
    """Raise one Invalid (400) naming every bad parameter, if there is any."""
    if problems:
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise Invalid(message, errors=problems)


def integer(low: int, high: int) -> Callable[[dict[str, Any]], None]:
    """What the API description says of a parameter read by `whole`: a number in a range
    (the route takes it as text, so that a bad one answers 400 here, not 422)."""
    return _describe({"type": "integer", "minimum": low, "maximum": high})


def one_of(options: Sequence[str]) -> Callable[[dict[str, Any]], None]:
    """What the API description says of a parameter read by `choice`."""
    return _describe({"type": "string", "enum": list(options)})


def text(most: int) -> Callable[[dict[str, Any]], None]:
    """What the API description says of a text parameter of at most `most` characters."""
    return _describe({"type": "string", "maxLength": most})


def _describe(wanted: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def rewrite(schema: dict[str, Any]) -> None:
        schema.pop("anyOf", None)  # optional text as the route reads it
        schema.update(wanted)

    return rewrite

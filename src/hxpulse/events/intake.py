"""Turn raw JSON messages into events, keeping the good ones and reporting the bad ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from hxpulse.errors import HXError
from hxpulse.events.schemas import EventIn
from hxpulse.web.text import refuse_nul

M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True)
class Checked:
    """The events that passed and, for each one that did not, where and why."""

    events: list[EventIn] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def describe(exc: ValidationError) -> str:
    """Return pydantic's errors as one line: `field: problem; other: problem`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(message)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def check_all(
    items: list[Any],
    model: type[M],
    convert: Callable[[M], EventIn],
    *,
    max_bytes: int | None = None,
    now: datetime | None = None,
) -> Checked:
    """Validate each item with `model` (its moments checked against `now`, the moment of
    receipt), convert it, and report each failure by its index."""
    checked = Checked()
    context = {"now": now} if now is not None else None
    for index, item in enumerate(items):
        try:
            dumped = orjson.dumps(item)
            if max_bytes is not None and len(dumped) > max_bytes:
                raise HXError(f"message is larger than {max_bytes} bytes")
            if b"\\u0000" in dumped:  # orjson writes a NUL as \u0000: look closer
                refuse_nul(item)
            checked.events.append(convert(model.model_validate(item, context=context)))
        except ValidationError as exc:
            checked.rejected.append({"index": index, "message": describe(exc)})
        except HXError as exc:
            checked.rejected.append({"index": index, "message": exc.message})
    return checked

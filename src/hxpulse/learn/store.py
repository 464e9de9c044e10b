"""Save and load the last fitted model of a kind (`fitted_models`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select

from hxpulse.learn.models import FittedModel

fitted_t = cast(Table, FittedModel.__table__)


@dataclass(frozen=True, slots=True)
class Fitted:
    name: str
    fitted_at: datetime
    meta: dict[str, Any]
    data: bytes | None


def save(
    conn: Connection, name: str, *, meta: dict[str, Any], data: bytes | None, now: datetime
) -> None:
    """Replace the model `name` (inside the caller's write transaction)."""
    conn.execute(delete(fitted_t).where(fitted_t.c.name == name))
    conn.execute(insert(fitted_t).values(name=name, fitted_at=now, meta=meta, data=data))


def load(conn: Connection, name: str, *, with_data: bool = True) -> Fitted | None:
    """The last model `name` fitted, or None before the first fit."""
    columns = [fitted_t.c.name, fitted_t.c.fitted_at, fitted_t.c.meta]
    if with_data:
        columns.append(fitted_t.c.data)
    row = conn.execute(select(*columns).where(fitted_t.c.name == name)).first()
    if row is None:
        return None
    return Fitted(row.name, row.fitted_at, dict(row.meta), row.data if with_data else None)


def fitted_at(conn: Connection, name: str) -> datetime | None:
    """When the model `name` was last fitted (None: never), reading nothing else (serving
    asks on every request whether its copy is still the last)."""
    found = conn.execute(select(fitted_t.c.fitted_at).where(fitted_t.c.name == name)).scalar()
    return cast(datetime | None, found)

"""Save and load the last fitted model of a kind (`fitted_models`).

A fit's save and an erasure's rewrite of the models take `lock` first, so on PostgreSQL one
waits for the other and then sees what it committed (SQLite has one writer at a time): a fit
whose reading began before an erasure leaves the erased out when it saves (`erased_customers`),
and an erasure finds the model a fit saved just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, text

from hxpulse.customers.models import Customer
from hxpulse.db.engine import is_sqlite
from hxpulse.learn.models import FittedModel

fitted_t = cast(Table, FittedModel.__table__)
customers_t = cast(Table, Customer.__table__)
LOCK = 0x68787075_6C736D01  # pg_advisory_xact_lock key of the fitted models' writes


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


def drop(conn: Connection, name: str) -> bool:
    """Delete the model `name` (inside the caller's write transaction); True if there was one."""
    return bool(conn.execute(delete(fitted_t).where(fitted_t.c.name == name)).rowcount)


def lock(conn: Connection) -> None:
    """Hold the fitted models' lock until the caller's transaction ends (module doc)."""
    if not is_sqlite(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})


def erased_customers(conn: Connection) -> list[int]:
    """The ids of every erased customer (merged profiles included): what a fit leaves out."""
    c = customers_t.c
    return [int(i) for i in conn.execute(select(c.id).where(c.erased_at.is_not(None)))
            .scalars()]  # fmt: skip


def erased_count(conn: Connection) -> int:
    """How many customers are erased (a text fit compares it before and after its reading)."""
    query = select(func.count()).select_from(customers_t)
    return int(conn.execute(query.where(customers_t.c.erased_at.is_not(None))).scalar_one())

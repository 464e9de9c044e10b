"""Read the outbox for people: deliveries by status, kind, endpoint or customer, one delivery
with its tries, and counts by status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, func, select

from hxpulse.errors import NotFound
from hxpulse.outbox.service import attempts_t, outbox_t

LIST_COLUMNS = ("id", "key", "kind", "customer_id", "cause", "status", "attempts", "created_at",
                "due_at", "delivered_at", "last_status", "last_response")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Filters:
    """Which deliveries: any field left None does not filter."""

    status: str | None = None
    kind: str | None = None
    endpoint: str | None = None  # a webhook endpoint's name
    customer_id: int | None = None


def _where(query: Select[Any], filters: Filters) -> Select[Any]:
    o = outbox_t.c
    if filters.status is not None:
        query = query.where(o.status == filters.status)
    if filters.kind is not None:
        query = query.where(o.kind == filters.kind)
    if filters.endpoint is not None:
        query = query.where(
            o.kind == "webhook", o.payload["endpoint"].as_string() == filters.endpoint
        )
    if filters.customer_id is not None:
        query = query.where(o.customer_id == filters.customer_id)
    return query


def deliveries(
    conn: Connection, filters: Filters, *, limit: int = 50, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Deliveries, newest first; page on with `before_id` (the last id seen)."""
    o = outbox_t.c
    query = _where(select(*(o[c] for c in LIST_COLUMNS), o.payload), filters)
    if before_id is not None:
        query = query.where(o.id < before_id)
    rows = conn.execute(query.order_by(o.id.desc()).limit(limit))
    return [_listed(dict(r._mapping)) for r in rows]


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    payload = row.pop("payload") or {}
    row["endpoint"] = payload.get("endpoint") if row["kind"] == "webhook" else None
    row["type"] = payload.get("type")
    return row


def ids(conn: Connection, filters: Filters, *, limit: int = 10_000) -> list[int]:
    """The ids of the deliveries `filters` selects (for a bulk replay), oldest first."""
    o = outbox_t.c
    return list(conn.execute(_where(select(o.id), filters).order_by(o.id).limit(limit)).scalars())


def get(conn: Connection, delivery_id: int) -> dict[str, Any]:
    """One delivery with its payload and every try, newest try first."""
    found = conn.execute(select(outbox_t).where(outbox_t.c.id == delivery_id)).first()
    if found is None:
        raise NotFound(f"no delivery {delivery_id}")
    row = dict(found._mapping)
    row.pop("lease_until", None)
    row["endpoint"] = row["payload"].get("endpoint") if row["kind"] == "webhook" else None
    row["type"] = row["payload"].get("type")
    tries = conn.execute(select(attempts_t).where(attempts_t.c.outbox_id == delivery_id)
                         .order_by(attempts_t.c.id.desc()).limit(200))  # fmt: skip
    row["tries"] = [dict(t._mapping) for t in tries]
    return row


def counts(conn: Connection) -> dict[str, int]:
    """How many deliveries are pending, done and dead."""
    o = outbox_t.c
    rows = conn.execute(select(o.status, func.count()).group_by(o.status)).all()
    found: dict[str, int] = {str(r[0]): int(r[1]) for r in rows}
    return {status: found.get(status, 0) for status in ("pending", "done", "dead")}

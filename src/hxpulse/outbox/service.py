"""Write actions to the outbox inside their cause's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from hxpulse.db import raw
from hxpulse.outbox.models import OutboxRow

outbox_t = cast(Table, OutboxRow.__table__)
COLUMNS = ("key", "kind", "customer_id", "cause", "payload", "status", "attempts", "created_at",
           "due_at")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Action:
    """One action to deliver. `key` makes it idempotent: a second action with the same key is
    not written (the first one stands)."""

    kind: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    cause: str | None = None
    due_at: datetime | None = None  # None: at once


def enqueue(conn: Connection, actions: Sequence[Action], *, now: datetime) -> int:
    """Write `actions` in the caller's transaction; return how many were new (keys already in
    the outbox, or twice in `actions`, are skipped)."""
    if not actions:
        return 0
    unique: dict[str, Action] = {}
    for action in actions:
        unique.setdefault(action.key, action)
    known = {row[0] for row in raw.select_in(conn, "SELECT key FROM outbox WHERE key {in}",
                                             list(unique))}  # fmt: skip
    fresh = [a for k, a in unique.items() if k not in known]
    if not fresh:
        return 0
    rows = [
        {"key": a.key, "kind": a.kind, "customer_id": a.customer_id, "cause": a.cause,
         "payload": a.payload, "status": "pending", "attempts": 0, "created_at": now,
         "due_at": a.due_at or now}
        for a in fresh
    ]  # fmt: skip
    conn.execute(outbox_t.insert(), rows)
    return len(fresh)


def pending_for(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """The customer's actions, newest first (for the customer page)."""
    o = outbox_t.c
    rows = conn.execute(
        select(o.id, o.key, o.kind, o.cause, o.status, o.attempts, o.created_at, o.delivered_at)
        .where(o.customer_id == customer_id)
        .order_by(o.id.desc())
        .limit(200)
    )
    return [dict(row._mapping) for row in rows]

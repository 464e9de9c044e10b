"""Write and read the audit log: who (a person, a key, the customer, the system) did what to
whom, when and from which address. Entries are written in the transaction of what they record."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select

from hxpulse.audit.models import AuditEntry
from hxpulse.audit.who import KINDS as KINDS
from hxpulse.audit.who import Who as Who

log_t = cast(Table, AuditEntry.__table__)

SYSTEM = Who("system", None, "system")


def record(
    conn: Connection,
    *,
    who: Who,
    action: str,
    now: datetime,
    subject_kind: str | None = None,
    subject_id: int | str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one entry (`action` such as `customer.view`, `key.revoke`); return its id."""
    if who.kind not in KINDS:
        raise ValueError(f"unknown actor kind {who.kind!r}")
    entry_id: int = conn.execute(
        insert(log_t).returning(log_t.c.id),
        {"at": now, "actor_kind": who.kind, "actor_id": who.id, "actor_label": who.label[:400],
         "address": (who.address or None) and who.address[:64], "action": action,
         "subject_kind": subject_kind,
         "subject_id": None if subject_id is None else str(subject_id), "detail": detail},
    ).scalar_one()  # fmt: skip
    return entry_id


def entries(
    conn: Connection,
    *,
    action: str | None = None,
    actor_kind: str | None = None,
    actor_id: int | None = None,
    subject_kind: str | None = None,
    subject_id: int | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest entries first, filtered (`action` ending in `.` is a prefix: `customer.`);
    page on with `before_id` (the last id seen)."""
    query = select(log_t).order_by(log_t.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(
            log_t.c.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else log_t.c.action == action
        )
    if actor_kind is not None:
        query = query.where(log_t.c.actor_kind == actor_kind)
    if actor_id is not None:
        query = query.where(log_t.c.actor_id == actor_id)
    if subject_kind is not None:
        query = query.where(log_t.c.subject_kind == subject_kind)
    if subject_id is not None:
        query = query.where(log_t.c.subject_id == str(subject_id))
    if since is not None:
        query = query.where(log_t.c.at >= since)
    if until is not None:
        query = query.where(log_t.c.at < until)
    if before_id is not None:
        query = query.where(log_t.c.id < before_id)
    return [dict(row._mapping) for row in conn.execute(query)]

"""What the dispatcher runs for cases: the `case.open` action and the breach job."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, func, or_, select

from hxpulse.audit.service import Who
from hxpulse.cases import service
from hxpulse.cases.models import ACTIVE, Case
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.errors import HXError
from hxpulse.outbox.dispatch import Context, Delivery, Outcome

log = logging.getLogger("hxpulse.cases")
cases_t = cast(Table, Case.__table__)
RULES = Who("system", None, "rules")
BATCH = 500


def open_case(ctx: Context, delivery: Delivery) -> Outcome:
    """The `case.open` handler: open the case the payload describes (contract: reason,
    source_event, priority, team, department, channel, owner), once per outbox key."""
    payload: dict[str, Any] = delivery.payload
    if delivery.customer_id is None:
        return Outcome(False, response="case.open needs the customer's id", final=True)

    def work(conn: Connection) -> tuple[dict[str, Any], bool]:
        return service.create(
            conn, ctx.settings, customer_id=delivery.customer_id or 0,
            reason=str(payload.get("reason") or "Opened by a rule"),
            source_key=delivery.key, source_event=payload.get("source_event"),
            priority=payload.get("priority"), team=payload.get("team"),
            department=payload.get("department"), channel=payload.get("channel"),
            owner=payload.get("owner"), who=RULES, now=ctx.now,
        )  # fmt: skip

    try:
        made, created = run_write(ctx.engine, work)
    except HXError as exc:  # a bad payload or an unknown team, owner or customer: no retry helps
        return Outcome(False, status=exc.status_code, response=exc.message, final=True)
    return Outcome(True, response=f"case {made['id']} {'opened' if created else 'already open'}")


def due_breaches(conn: Connection, now: Any, limit: int = BATCH) -> list[int]:
    """Ids of running cases with a metric past its due time and not yet marked."""
    c = cases_t.c
    first = and_(c.first_responded_at.is_(None), c.first_response_breached_at.is_(None),
                 c.first_response_due <= now)  # fmt: skip
    resolution = and_(c.resolution_breached_at.is_(None), c.resolution_due <= now)
    query = (select(c.id).where(c.status.in_(ACTIVE), c.next_due_at <= now, or_(first, resolution))
             .order_by(c.next_due_at).limit(limit))  # fmt: skip
    return [int(i) for i in conn.execute(query).scalars()]


def next_breach_at(conn: Connection) -> datetime | None:
    """When the next breach can happen (the earliest due time still running): a dispatcher
    may sleep until then instead of polling."""
    c = cases_t.c
    query = select(func.min(c.next_due_at)).where(c.status.in_(ACTIVE))
    found: datetime | None = conn.execute(query).scalar_one_or_none()
    return found


def sweep(conn: Connection, settings: Settings, now: Any) -> int:
    """Mark every breach due by `now` (stamped with its due time); return how many cases."""
    ids = due_breaches(conn, now)
    return sum(1 for case_id in ids if service.settle(conn, settings, case_id, now))


def breaches(ctx: Context) -> None:
    """The breach job (every few seconds): one transaction per run."""
    marked = run_write(ctx.engine, lambda conn: sweep(conn, ctx.settings, ctx.now))
    if marked:
        log.info("cases: %d SLA breach(es) marked", marked)

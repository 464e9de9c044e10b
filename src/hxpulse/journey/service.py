"""The journey's reads: one customer's changes of stage, and their journey now.

The journey is split by role: `definition` (the replay that defines a stage), `live` (the
ingest step), `store` (its reads and writes), `rebuild`, `funnel`, and these reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.errors import NotFound
from hxpulse.journey import overlays
from hxpulse.journey.store import stage_changes_t


def history(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """The customer's changes of stage, oldest first."""
    s = stage_changes_t.c
    rows = conn.execute(
        select(s.changed_at, s.from_stage, s.to_stage, s.message_id, s.channel, s.department)
        .where(s.customer_id == customer_id)
        .order_by(s.changed_at, s.id)
    )
    return [dict(row._mapping) for row in rows]


def customer_journey(
    conn: Connection, live: Live, *, customer_id: int, now: datetime
) -> dict[str, Any]:
    """The customer's stage now, since when, the overlays, and every change of stage."""
    c = customers_t.c
    row = conn.execute(
        select(c.id, c.stage, c.stage_at, c.detractor, c.open_negatives, c.last_return_at,
               overlays.at_risk(live, now).label("at_risk"),
               overlays.lapsed(live, now).label("lapsed"))
        .where(c.id == customer_id)
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return {
        "customer_id": row.id, "stage": row.stage, "stage_at": row.stage_at,
        "at_risk": bool(row.at_risk), "lapsed": bool(row.lapsed),
        "detractor": bool(row.detractor), "open_negatives": row.open_negatives,
        "last_return_at": row.last_return_at, "history": history(conn, customer_id),
    }  # fmt: skip

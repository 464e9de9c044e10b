"""A customer's cases in their export, and erased with them (reasons and messages emptied)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from hxpulse.cases.service import cases_t, entries_t

ERASED = "(erased)"
SPOKEN = ("message_out", "message_in", "note")  # what can hold personal data


def export_cases(conn: Connection, ids: list[int], *, audience: str) -> list[dict[str, Any]]:
    """The customer's cases with their threads (the customer sees messages, not notes)."""
    c, e = cases_t.c, entries_t.c
    columns = (c.id, c.reason, c.status, c.priority, c.channel, c.created_at, c.resolved_at)
    rows = conn.execute(select(*columns).where(c.customer_id.in_(ids)).order_by(c.id))
    out = []
    for row in rows:
        query = select(e.kind, e.body, e.at).where(e.case_id == row.id).order_by(e.at, e.id)
        if audience == "customer":
            query = query.where(e.kind.in_(("message_out", "message_in", "status")))
        out.append({**row._mapping, "thread": [dict(x._mapping) for x in conn.execute(query)]})
    return out


def erase_cases(conn: Connection, ids: list[int]) -> int:
    """Empty the reasons and the messages and notes of the customer's cases; return how many
    entries were emptied (the cases stay, for the SLA report)."""
    c, e = cases_t.c, entries_t.c
    case_ids = [int(i) for i in conn.execute(select(c.id).where(c.customer_id.in_(ids))).scalars()]
    if not case_ids:
        return 0
    conn.execute(update(cases_t).where(c.id.in_(case_ids)).values(reason=ERASED))
    done = conn.execute(update(entries_t).where(e.case_id.in_(case_ids), e.kind.in_(SPOKEN))
                        .values(body=ERASED))  # fmt: skip
    return int(done.rowcount)

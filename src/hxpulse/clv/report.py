"""The Value report: the CLV distribution, the value at risk and the top customers by CLV.

Read from `customer_values` (the last `hxpulse fit clv`) for live customers. The histogram has
`BINS` equal bins from 0 to the 99th percentile of CLV and one more for the top 1% (CLV is
heavy-tailed: a few customers are worth far more than the rest); each bin is counted in SQL.
The value at risk is the CLV of the customers in the at-risk band now (`pulse.bands`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from hxpulse.clv.service import MONTHS, model, values_t
from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.pulse import bands

BINS = 20
TOP_SHARE = 0.99  # the histogram's range ends at this quantile; the rest is one bin


def _live() -> Any:
    c, v = customers_t.c, values_t.c
    return and_(c.id == v.customer_id, c.merged_into_id.is_(None))


def histogram(conn: Connection) -> dict[str, Any]:
    """Counts of live customers per CLV bin: `edges` (BINS + 2 numbers; the last bin runs from
    the 99th percentile to the maximum), `counts` (BINS + 1)."""
    v = values_t.c
    joined = values_t.join(customers_t, _live())
    total, top = conn.execute(select(func.count(), func.max(v.clv)).select_from(joined)).one()
    if not total:
        return {"edges": [], "counts": [], "customers": 0}
    at = min(int(total * TOP_SHARE), total - 1)
    cut = conn.execute(select(v.clv).select_from(joined).order_by(v.clv).offset(at).limit(1)
                       ).scalar_one()  # fmt: skip
    cut = float(cut) if cut and cut > 0 else float(top or 1.0) or 1.0
    width = cut / BINS
    # a CASE ladder, not CAST(clv / width): PostgreSQL rounds a cast where SQLite truncates
    uppers = [width * (k + 1) for k in range(BINS - 1)] + [cut]
    index = case(*((v.clv < upper, k) for k, upper in enumerate(uppers)), else_=BINS)
    counts = [0] * (BINS + 1)
    rows = conn.execute(select(index, func.count()).select_from(joined).group_by(index))
    for n, count in rows:
        counts[min(max(int(n or 0), 0), BINS)] += int(count)
    edges = [0.0, *uppers, max(float(top), cut)]
    return {"edges": edges, "counts": counts, "customers": int(total)}


def value_at_risk(conn: Connection, live: Live, now: datetime) -> dict[str, Any]:
    """The at-risk customers' CLV: its sum, how many of them have a value, and the share of all
    live customers' CLV."""
    v = values_t.c
    joined = values_t.join(customers_t, _live())
    at_risk = bands.band_sql(bands.edges(live, now), "at-risk")
    risky, count = conn.execute(
        select(func.coalesce(func.sum(v.clv), 0.0), func.count()).select_from(joined)
        .where(at_risk)
    ).one()  # fmt: skip
    everyone = conn.execute(select(func.coalesce(func.sum(v.clv), 0.0)).select_from(joined))
    total = float(everyone.scalar_one())
    return {"value": float(risky), "customers": int(count), "total_clv": total,
            "share": float(risky) / total if total > 0 else None,
            "link": "/pulse/at-risk"}  # fmt: skip


def top_customers(conn: Connection, *, limit: int = 20) -> list[dict[str, Any]]:
    """The live customers with the highest CLV: name, `id:N` reference and their figures."""
    c, v = customers_t.c, values_t.c
    rows = conn.execute(
        select(c.id, c.name, v.clv, v.p_alive, v.expected_purchases, v.expected_spend,
               v.first_purchase)
        .select_from(values_t.join(customers_t, _live()))
        .order_by(v.clv.desc(), c.id).limit(limit)
    )  # fmt: skip
    return [
        {"customer_id": r.id, "ref": f"id:{r.id}", "name": r.name, "clv": r.clv,
         "p_alive": r.p_alive, "expected_purchases": r.expected_purchases,
         "expected_spend": r.expected_spend, "first_purchase": r.first_purchase,
         "clv_per_first_purchase": r.clv / r.first_purchase
         if r.first_purchase and r.first_purchase > 0 else None,
         "link": f"/customers/{r.id}"}
        for r in rows
    ]  # fmt: skip


def report(conn: Connection, live: Live, now: datetime, *, limit: int = 20) -> dict[str, Any]:
    """The Value report; `fitted` is false (and the rest empty) before the first fit."""
    fitted = model(conn)
    return {
        "fitted": fitted is not None,
        "model": fitted,
        "months": MONTHS,
        "histogram": histogram(conn),
        "value_at_risk": value_at_risk(conn, live, now),
        "top": top_customers(conn, limit=limit),
    }

"""Rebuild the journey from the event log: every stage, transition and the stored counters."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, select

from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.journey import store
from hxpulse.journey.live import Work, load, plan_of, verdict

REBUILD_CHUNK = 2_000


def rebuild(
    conn: Connection,
    live: Live,
    *,
    customer_ids: Sequence[int] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = REBUILD_CHUNK,
) -> int:
    """Recompute the stage, every transition and the counters of `customer_ids` (default:
    every live customer) from the event log and the stored negative experiences, `chunk`
    customers at a time, inside the caller's transaction. Run after the pulse rebuild (which
    rewrites the negatives). Returns how many customers were processed; `progress` gets each
    chunk's count.
    """
    c = customers_t.c
    if customer_ids is None:
        ids = list(conn.execute(
            select(c.id).where(c.merged_into_id.is_(None)).order_by(c.id)).scalars())  # fmt: skip
    else:
        ids = sorted(set(customer_ids))
    plan = plan_of(live)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        work = {cid: Work(None) for cid in part}
        for cid, anchor in store.first_events(conn, part).items():
            work[cid].anchor = anchor
        load(conn, plan, work)
        for cid, spans in store.load_negatives(conn, part).items():
            work[cid].negatives = spans
        verdicts = [verdict(plan, cid, job) for cid, job in work.items()]
        store.replace_transitions(conn, [(v.customer_id, None, True, v.added) for v in verdicts],
                                  set())  # fmt: skip
        store.set_stages(conn, [(v.customer_id, v.timeline, v.counters) for v in verdicts])
        if progress is not None:
            progress(len(part))
    return len(ids)

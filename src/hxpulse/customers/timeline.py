"""A customer's touchpoints a page at a time, newest first, paged by keyset: `before` an event
id gives the page of older ones, `after` the page of newer ones (so a page stays put while new
touchpoints arrive). Reads the `(customer_id, occurred_at)` index only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from hxpulse.customers import params
from hxpulse.customers.service import events_t
from hxpulse.db.base import MAX_ID
from hxpulse.errors import Invalid

e = events_t.c
COLUMNS = (e.id, e.message_id, e.kind, e.type, e.name, e.channel, e.department, e.occurred_at,
           e.received_at, e.value, e.currency, e.source, e.properties)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Window:
    """Which touchpoints to show: `limit` of them, older than `before` or newer than `after`
    (event ids), or the newest."""

    limit: int = 100
    before: int | None = None
    after: int | None = None


def parse(
    *,
    limit: str | None = None,
    before: str | None = None,
    after: str | None = None,
    low: int = 1,
    high: int = 1000,
    default: int = 100,
    limit_name: str = "limit",
) -> Window:
    """Check the paging parameters as typed in an address; one Invalid names every bad one."""
    problems: params.Problems = []
    size = params.whole(problems, limit_name, limit, default=default, low=low, high=high)
    older = params.optional_whole(problems, "before", before, low=1, high=MAX_ID)
    newer = params.optional_whole(problems, "after", after, low=1, high=MAX_ID)
    if older is not None and newer is not None:
        problems.append({"field": "after", "message": "give before or after, not both"})
    params.check(problems)
    return Window(limit=size, before=older, after=newer)


def _at(conn: Connection, customer_id: int, event_id: int, field: str) -> datetime:
    found = conn.execute(
        select(e.occurred_at).where(e.id == event_id, e.customer_id == customer_id)
    ).scalar()
    if found is None:
        raise Invalid(
            f"{field}: no touchpoint {event_id} of this customer; start from the newest",
            errors=[{"field": field, "message": "not a touchpoint of this customer"}],
        )
    return found  # type: ignore[no-any-return]


def _older(at: datetime, event_id: int) -> ColumnElement[bool]:
    return or_(e.occurred_at < at, and_(e.occurred_at == at, e.id < event_id))


def _newer(at: datetime, event_id: int) -> ColumnElement[bool]:
    return or_(e.occurred_at > at, and_(e.occurred_at == at, e.id > event_id))


def page(conn: Connection, customer_id: int, window: Window) -> dict[str, Any]:
    """The touchpoints `window` names, newest first; whether there are older and newer ones;
    how many newer ones come before the page (`events_offset`)."""
    base = select(*COLUMNS).where(e.customer_id == customer_id)
    limit, before = window.limit, window.before
    if window.after is not None:
        at = _at(conn, customer_id, window.after, "after")
        rows = conn.execute(
            base.where(_newer(at, window.after)).order_by(e.occurred_at, e.id).limit(limit + 1)
        ).all()
        if len(rows) > limit:
            events = [dict(r._mapping) for r in reversed(rows[:limit])]
            return _out(conn, customer_id, events, has_older=True, has_newer=True)
        before = None  # fewer than a page is newer: the newest page
    newest_first = (e.occurred_at.desc(), e.id.desc())
    if before is not None:
        at = _at(conn, customer_id, before, "before")
        base = base.where(_older(at, before))
    rows = conn.execute(base.order_by(*newest_first).limit(limit + 1)).all()
    events = [dict(r._mapping) for r in rows[:limit]]
    return _out(conn, customer_id, events, has_older=len(rows) > limit,
                has_newer=before is not None)  # fmt: skip


def _out(
    conn: Connection,
    customer_id: int,
    events: list[dict[str, Any]],
    *,
    has_older: bool,
    has_newer: bool,
) -> dict[str, Any]:
    offset = 0
    if has_newer and events:
        first = events[0]
        offset = int(conn.execute(
            select(func.count()).select_from(events_t)
            .where(e.customer_id == customer_id, _newer(first["occurred_at"], first["id"]))
        ).scalar_one())  # fmt: skip
    return {"events": events, "has_older": has_older, "has_newer": has_newer,
            "events_offset": offset}  # fmt: skip

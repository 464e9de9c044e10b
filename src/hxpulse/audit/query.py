"""Reading the audit log with filters, as the admin page, `GET /api/audit` and `hxpulse audit`
ask for it: by action, actor, customer and time, newest first, a page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from hxpulse.audit import service
from hxpulse.errors import Invalid

ACTIONS = ("customer.view", "customer.consent", "customer.export", "customer.erase",
           "customer.erasure_request")  # fmt: skip
_ACTION = re.compile(r"[a-z_]+(\.[a-z_]*)?")
_ACTOR = re.compile(r"(user|key|customer|system)(?:[: ]([0-9]{1,18}))?")
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 1, 1)
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Filters:
    action: str | None = None
    actor_kind: str | None = None
    actor_id: int | None = None
    customer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50


def _moment(field: str, text: str, errors: list[dict[str, str]], *, end: bool) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            errors.append({"field": field, "message": "not a day (YYYY-MM-DD) or ISO moment"})
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        day = moment.date()
        if EARLIEST <= day < LATEST:
            return moment.astimezone(UTC)
    else:
        if EARLIEST <= day < LATEST:
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)
    errors.append({"field": field, "message": f"must lie between {EARLIEST} and {LATEST}"})
    return None


def parse(
    *,
    action: str | None = None,
    actor: str | None = None,
    customer_id: int | None = None,
    since: str | None = None,
    until: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Filters:
    """Check filters as typed in a form, a query string or on the command line: `action` is a
    name or a prefix ending in `.` (`customer.`); `actor` is `user:3`, `key:2`, `customer` or
    `system`; days are whole days, both included. One Invalid names every bad field."""
    errors: list[dict[str, str]] = []
    action = (action or "").strip() or None
    if action is not None and (len(action) > 60 or not _ACTION.fullmatch(action)):
        errors.append({"field": "action", "message": "an action such as customer.view"})
    kind = ident = None
    if actor and actor.strip():
        found = _ACTOR.fullmatch(actor.strip().lower()[:40])
        if found is None:
            errors.append({"field": "actor", "message": "user:ID, key:ID, customer or system"})
        else:
            kind, ident = found.group(1), int(found.group(2)) if found.group(2) else None
    start = _moment("since", since.strip(), errors, end=False) if since and since.strip() else None
    end = _moment("until", until.strip(), errors, end=True) if until and until.strip() else None
    if not 1 <= limit <= MAX_LIMIT:
        errors.append({"field": "limit", "message": f"from 1 to {MAX_LIMIT}"})
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    return Filters(action, kind, ident, customer_id, start, end, before, limit)


def read(conn: Connection, filters: Filters) -> dict[str, Any]:
    """One page of entries, newest first, and the id to page on from (None: the last page)."""
    rows = service.entries(
        conn,
        action=filters.action,
        actor_kind=filters.actor_kind,
        actor_id=filters.actor_id,
        subject_kind="customer" if filters.customer_id is not None else None,
        subject_id=filters.customer_id,
        since=filters.since,
        until=filters.until,
        before_id=filters.before_id,
        limit=filters.limit + 1,
    )
    more = len(rows) > filters.limit
    items = rows[: filters.limit]
    return {"items": items, "next_before": items[-1]["id"] if more and items else None}

"""Customers' data governed: consent changes, views of a profile, erasure requests; export and
erasure live in `export.py` and `erasure.py` and are re-exported here.

Every change and every view of a profile is recorded in the audit log in the transaction that
makes it, naming the customer by internal id only, with counts and purposes, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from hxpulse.audit import service as audit
from hxpulse.audit.service import Who
from hxpulse.customers.models import Customer
from hxpulse.db.engine import is_sqlite
from hxpulse.errors import Conflict, Invalid, NotFound
from hxpulse.privacy.consent import PURPOSES, allowed, allows, check_purpose, entry, status_of
from hxpulse.privacy.consent import view as consent_view
from hxpulse.privacy.erasure import erase, preview
from hxpulse.privacy.export import document, export
from hxpulse.privacy.models import ErasureRequest

__all__ = [
    "allowed", "allows", "consent_of", "document", "erase", "erasure_state", "export",
    "is_erased", "panel", "pending_requests", "preview", "record_view", "request_erasure",
    "set_consent",
]  # fmt: skip
customers_t = cast(Table, Customer.__table__)
requests_t = cast(Table, ErasureRequest.__table__)
CUSTOMER = "customer"
VIEW_VIA = ("page", "api")


def _live_row(conn: Connection, customer_id: int, *, lock: bool = False) -> Any:
    """The customer's live row (a merged id follows its survivor); NotFound if none."""
    c = customers_t.c
    row = conn.execute(select(c.id, c.merged_into_id).where(c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    query = select(c.id, c.consent, c.erased_at).where(c.id == (row.merged_into_id or row.id))
    if lock and not is_sqlite(conn):
        query = query.with_for_update()  # a concurrent identify must not lose this change
    return conn.execute(query).one()


def is_erased(conn: Connection, customer_id: int) -> bool:
    """Whether the customer's personal data was erased."""
    return _live_row(conn, customer_id).erased_at is not None


def consent_of(conn: Connection, customer_id: int) -> dict[str, Any]:
    """The customer's consent per purpose: status, source, time and whether it is allowed."""
    row = _live_row(conn, customer_id)
    return {"customer_id": row.id, **consent_view(row.consent)}


def _via_of(who: Who) -> tuple[str, str]:
    if who.kind == CUSTOMER:
        return "preference_centre", CUSTOMER
    return ("agent" if who.kind == "user" else "api"), who.label


def set_consent(
    conn: Connection, customer_id: int, changes: Mapping[str, str], *, who: Who, now: datetime
) -> dict[str, Any]:
    """Record the answers in `changes` ({purpose: granted | denied}) for the customer, as
    given by `who` (a person or key for the business, or the customer in the preference
    centre); only answers that change are written and audited (`customer.consent`)."""
    if not changes:
        raise Invalid(
            f"say which purpose to change: {', '.join(PURPOSES)}",
            errors=[{"field": "consent", "message": "no purpose given"}],
        )
    for purpose, status in changes.items():
        check_purpose(purpose)
        entry(status, via="agent", source="", at=now)  # refuses a status other than the two
    row = _live_row(conn, customer_id, lock=True)
    if row.erased_at is not None:
        raise Conflict(f"customer {row.id} was erased: there is no consent left to change")
    via, source = _via_of(who)
    consent = dict(row.consent or {})
    done: dict[str, Any] = {}
    for purpose, status in changes.items():
        before = status_of(consent, purpose)
        if before != status or purpose not in consent:
            consent[purpose] = entry(status, via=via, source=source, at=now)
            done[purpose] = {"from": before, "to": status}
    if done:
        conn.execute(
            update(customers_t)
            .where(customers_t.c.id == row.id)
            .values(consent=consent, updated_at=now)
        )
        audit.record(conn, who=who, action="customer.consent", now=now, subject_kind=CUSTOMER,
                     subject_id=row.id, detail={"changes": done, "via": via})  # fmt: skip
    return {"customer_id": row.id, "changed": sorted(done), **consent_view(consent)}


def record_view(conn: Connection, customer_id: int, *, who: Who, via: str, now: datetime) -> None:
    """Record that `who` saw the customer's profile (`customer.view`; `via`: page or api)."""
    if via not in VIEW_VIA:
        raise ValueError(f"unknown view {via!r}")
    audit.record(conn, who=who, action="customer.view", now=now, subject_kind=CUSTOMER,
                 subject_id=customer_id, detail={"via": via})  # fmt: skip


def erasure_state(conn: Connection, customer_id: int, *, due_days: int) -> dict[str, Any] | None:
    """The customer's erasure request, if any: when asked, by whom, due when, done when."""
    row = conn.execute(select(requests_t).where(requests_t.c.customer_id == customer_id)).first()
    if row is None:
        return None
    state = dict(row._mapping)
    state["due_at"] = row.requested_at + timedelta(days=due_days)
    state["pending"] = row.erased_at is None
    return state


def request_erasure(
    conn: Connection, customer_id: int, *, who: Who, now: datetime, due_days: int
) -> dict[str, Any]:
    """Record the customer's request to be erased, for an admin to carry out (`hxpulse
    erase`, the API or the customer page). Until then every purpose is denied, so nothing is
    sent or personalised while the request waits. Asking again changes nothing."""
    row = _live_row(conn, customer_id, lock=True)
    found = erasure_state(conn, row.id, due_days=due_days)
    if found is not None or row.erased_at is not None:
        return found or {"customer_id": row.id, "pending": False, "erased_at": row.erased_at}
    conn.execute(insert(requests_t), {"customer_id": row.id, "requested_at": now,
                                      "requested_by": who.kind})  # fmt: skip
    consent = dict(row.consent or {})
    for purpose in PURPOSES:
        consent[purpose] = entry("denied", via="erasure_request", source=who.kind, at=now)
    c = customers_t.c
    conn.execute(update(customers_t).where(c.id == row.id).values(consent=consent, updated_at=now))
    audit.record(conn, who=who, action="customer.erasure_request", now=now,
                 subject_kind=CUSTOMER, subject_id=row.id)  # fmt: skip
    state = erasure_state(conn, row.id, due_days=due_days)
    assert state is not None
    return state


def pending_requests(conn: Connection, *, due_days: int, limit: int = 500) -> list[dict[str, Any]]:
    """Erasure requests not carried out yet, oldest first, with the day each is due."""
    rows = conn.execute(
        select(requests_t)
        .where(requests_t.c.erased_at.is_(None))
        .order_by(requests_t.c.requested_at, requests_t.c.id)
        .limit(limit)
    )
    return [
        {**dict(r._mapping), "due_at": r.requested_at + timedelta(days=due_days), "pending": True}
        for r in rows
    ]


def panel(conn: Connection, customer_id: int, *, due_days: int) -> dict[str, Any]:
    """What the customer page shows about the customer's data: consent per purpose, any
    erasure request, and whether the profile was erased."""
    row = _live_row(conn, customer_id)
    return {
        "consent": consent_view(row.consent),
        "erasure": erasure_state(conn, row.id, due_days=due_days),
        "erased_at": row.erased_at,
        "purposes": PURPOSES,
    }

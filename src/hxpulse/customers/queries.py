"""Reading profiles: find a customer by any identity, one full profile (the list and its
search: `listing`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from hxpulse.customers import timeline
from hxpulse.customers.identity import normalise
from hxpulse.customers.models import IDENTITY_KINDS
from hxpulse.customers.service import customers_t, events_t, identities_t, merges_t
from hxpulse.db.base import parse_id
from hxpulse.errors import Invalid, NotFound
from hxpulse.surveys import answers

INTERNAL = "id:"  # the explicit form of an internal id: `id:4`
MAX_REF = 400  # longer than any identity (emails: 320)


def live_id(conn: Connection, customer_id: int) -> int | None:
    """Return the id of the profile `customer_id` lives on now (following merges)."""
    row = conn.execute(
        select(customers_t.c.id, customers_t.c.merged_into_id).where(
            customers_t.c.id == customer_id
        )
    ).first()
    if row is None:
        return None
    return int(row.merged_into_id or row.id)


def find(conn: Connection, ref: str) -> int:
    """Return the customer named by `ref`, following merges.

    `id:N` is always the internal id N; `kind:value` is that identity (`user_id:00004`); any
    other reference is looked up as an identity of every kind (email, phone, user id, …) first,
    and only when no identity matches is a number of ASCII digits from 1 to 2^63 − 1 taken as
    an internal id. So a user id `00004` wins over the internal id 4, and a number that fits
    nothing (25 digits, `²`) is simply not found.
    """
    if len(ref) > MAX_REF or any(ord(ch) < 32 for ch in ref):  # never echoed: it may be huge
        raise Invalid(
            f"ref: a customer reference is an id or an identity of at most {MAX_REF} printable"
            " characters",
            errors=[{"field": "ref", "message": "not a customer reference"}],
        )
    ref = ref.strip()
    if ref.startswith(INTERNAL):
        number = parse_id(ref[len(INTERNAL) :])
        found = live_id(conn, number) if number is not None else None
        if found is None:
            raise NotFound(f"no customer has the internal id {ref[len(INTERNAL) :]!r}")
        return found
    found = _by_identity(conn, ref)
    if found is None and (number := parse_id(ref)) is not None:
        found = live_id(conn, number)
    if found is None:
        raise NotFound(f"no customer has the identity or id {ref!r}")
    return found


def _by_identity(conn: Connection, ref: str) -> int | None:
    if not ref or "\x00" in ref:
        return None  # no identity holds a NUL (PostgreSQL text cannot)
    kind, sep, value = ref.partition(":")
    candidates = [(kind, value)] if sep and kind in IDENTITY_KINDS else []
    candidates += [(k, ref) for k in IDENTITY_KINDS]
    for kind, raw in candidates:
        try:
            wanted = normalise(kind, raw)
        except Invalid:
            continue
        cid = conn.execute(
            select(identities_t.c.customer_id).where(
                identities_t.c.value == wanted, identities_t.c.kind == kind
            )
        ).scalar()
        if cid is not None:
            return int(cid)
    return None


def profile(
    conn: Connection,
    *,
    customer_id: int,
    limit: int = 100,
    window: timeline.Window | None = None,
) -> dict[str, Any]:
    """Return one profile: traits, consent, identities, merges, a page of touchpoints (the
    latest `limit`, or those `window` names) and the latest survey answers with their why."""
    c = customers_t.c
    row = conn.execute(select(customers_t).where(c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    data = dict(row._mapping)
    del data["journey_counters"]  # the journey's own state (journey/definition.py), not shown
    e = events_t.c
    data["identities"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(identities_t.c.kind, identities_t.c.value, identities_t.c.created_at)
            .where(identities_t.c.customer_id == customer_id)
            .order_by(identities_t.c.id)
        )
    ]
    summary = conn.execute(
        select(func.count(), func.min(e.occurred_at), func.max(e.occurred_at)).where(
            e.customer_id == customer_id
        )
    ).one()
    data["event_count"], data["first_seen_at"], data["last_seen_at"] = summary
    data["channels"] = dict(
        conn.execute(
            select(e.channel, func.count()).where(e.customer_id == customer_id).group_by(e.channel)
        ).all()
    )
    data.update(timeline.page(conn, customer_id, window or timeline.Window(limit=limit)))
    data.update(answers.for_customer(conn, customer_id))
    data["merged_from"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(merges_t.c.merged_id, merges_t.c.merged_at, merges_t.c.message_id).where(
                merges_t.c.survivor_id == customer_id
            )
        )
    ]
    return data


def counts(conn: Connection) -> dict[str, int]:
    """Return how many live customers, events and identities the database holds."""
    live = (
        select(func.count()).select_from(customers_t).where(customers_t.c.merged_into_id.is_(None))
    )
    return {
        "customers": int(conn.execute(live).scalar_one()),
        "events": int(conn.execute(select(func.count()).select_from(events_t)).scalar_one()),
        "identities": int(
            conn.execute(select(func.count()).select_from(identities_t)).scalar_one()
        ),
    }


def display_names(conn: Connection, customer_ids: list[int]) -> dict[int, str]:
    """How to name each of `customer_ids` on a page: the profile's name, else its first email
    address, else `Customer N`."""
    wanted = list(dict.fromkeys(customer_ids))
    named: dict[int, str] = {}
    emails: dict[int, str] = {}
    c, i = customers_t.c, identities_t.c
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        for cid, name in conn.execute(select(c.id, c.name).where(c.id.in_(part))):
            named[cid] = name
        rows = conn.execute(
            select(i.customer_id, i.value)
            .where(i.customer_id.in_(part), i.kind == "email")
            .order_by(i.id)
        )
        for cid, value in rows:
            emails.setdefault(cid, value)
    return {cid: shown_name(cid, named.get(cid), emails.get(cid)) for cid in wanted}


def shown_name(customer_id: int, name: str | None, email: str | None) -> str:
    """A customer as pages name them: the profile's name, else its email, else `Customer N`."""
    return (name or "").strip() or email or f"Customer {customer_id}"


def live_names(conn: Connection, customer_ids: list[int]) -> dict[int, tuple[int, str]]:
    """For each of `customer_ids` that exists: the profile it lives on now (following merges)
    and that profile's current name as `display_names` gives it, read in one query per 500
    ids (an erased profile has neither name nor identities: `Customer N`)."""
    wanted = list(dict.fromkeys(customer_ids))
    given, live, i = customers_t.alias("given"), customers_t.alias("live"), identities_t.c
    email = (select(i.value).where(i.customer_id == live.c.id, i.kind == "email")
             .order_by(i.id).limit(1).scalar_subquery())  # fmt: skip
    found: dict[int, tuple[int, str]] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(given.c.id, live.c.id, live.c.name, email)
            .join(live, live.c.id == func.coalesce(given.c.merged_into_id, given.c.id))
            .where(given.c.id.in_(wanted[start : start + 500]))
        )
        for cid, live_id_, name, address in rows:
            found[int(cid)] = (int(live_id_), shown_name(int(live_id_), name, address))
    return found

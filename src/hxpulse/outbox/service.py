"""Write actions to the outbox inside their cause's transaction."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, or_, select, update

from hxpulse.audit import service as audit
from hxpulse.audit.service import SYSTEM, Who
from hxpulse.db import raw
from hxpulse.outbox import wake
from hxpulse.outbox.dispatch import Delivery, Outcome
from hxpulse.outbox.models import OutboxAttempt, OutboxRow

outbox_t = cast(Table, OutboxRow.__table__)
COLUMNS = ("key", "kind", "customer_id", "cause", "payload", "status", "attempts", "created_at",
           "due_at")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Action:
    """One action to deliver. `key` makes it idempotent: a second action with the same key is
    not written (the first one stands)."""

    kind: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    cause: str | None = None
    due_at: datetime | None = None  # None: at once


def enqueue(conn: Connection, actions: Sequence[Action], *, now: datetime) -> int:
    """Write `actions` in the caller's transaction; return how many were new (keys already in
    the outbox, or twice in `actions`, are skipped)."""
    if not actions:
        return 0
    unique: dict[str, Action] = {}
    for action in actions:
        unique.setdefault(action.key, action)
    known = {row[0] for row in raw.select_in(conn, "SELECT key FROM outbox WHERE key {in}",
                                             list(unique))}  # fmt: skip
    fresh = [a for k, a in unique.items() if k not in known]
    if not fresh:
        return 0
    taker = wake.taker_of(conn)
    room = taker.room() if taker is not None else 0
    rows: list[dict[str, Any]] = []
    for a in fresh:
        due = a.due_at or now
        leased = taker is not None and len(rows) < room and due <= now  # rows come first
        rows.append({"key": a.key, "kind": a.kind, "customer_id": a.customer_id,
                     "cause": a.cause, "payload": a.payload, "status": "pending",
                     "attempts": 1 if leased else 0, "created_at": now, "due_at": due,
                     "lease_until": now + taker.lease if leased and taker else None})  # fmt: skip
    if taker is not None and room:
        _insert_taken(conn, rows, now=now)
    else:
        conn.execute(outbox_t.insert(), rows)
    wake.mark(conn)  # this process's dispatcher looks as soon as the transaction commits
    return len(fresh)


def _insert_taken(conn: Connection, rows: list[dict[str, Any]], *, now: datetime) -> None:
    """Insert `rows`, some leased to this process's dispatcher: hold their claims for it."""
    o = outbox_t.c
    ids = conn.execute(
        outbox_t.insert().returning(o.id, sort_by_parameter_order=True), rows
    ).scalars().all()  # fmt: skip
    claims = [
        Claim(
            Delivery(
                row_id, r["key"], r["kind"], r["customer_id"], r["cause"], r["payload"], 1, now
            ),
            r["lease_until"],
            now,
        )  # fmt: skip
        for row_id, r in zip(ids, rows, strict=True)
        if r["lease_until"] is not None
    ]
    wake.hold(conn, claims)


def pending_for(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """The customer's actions, newest first (for the customer page)."""
    o = outbox_t.c
    rows = conn.execute(
        select(o.id, o.key, o.kind, o.cause, o.status, o.attempts, o.created_at, o.delivered_at)
        .where(o.customer_id == customer_id)
        .order_by(o.id.desc())
        .limit(200)
    )
    return [dict(row._mapping) for row in rows]


# -- the dispatcher's side: claim, complete, fail, replay (every one takes `now`) ----------

attempts_t = cast(Table, OutboxAttempt.__table__)
EXCERPT = 2000  # characters of a response kept in the log


@dataclass(frozen=True, slots=True)
class Claim:
    """A row claimed for one try: the delivery, and the lease that fences its result (a try
    whose lease ran out, and whose row another dispatcher took, cannot complete it)."""

    delivery: Delivery
    lease_until: datetime
    window_start: datetime  # where the retry window began (created_at, or the last replay)


@dataclass(frozen=True, slots=True)
class Retry:
    """How retries are spaced: `ceilings` (seconds, the last one repeats) with full jitter,
    until `max_age` after the window's start."""

    ceilings: Sequence[float]
    max_age: timedelta

    def next_due(self, *, attempt: int, window_start: datetime, now: datetime,
                 rng: random.Random) -> datetime | None:  # fmt: skip
        """When try `attempt + 1` is due after try `attempt` failed at `now`; None: dead."""
        deadline = window_start + self.max_age
        if now >= deadline:
            return None
        ceiling = self.ceilings[min(attempt, len(self.ceilings)) - 1]
        delay = timedelta(seconds=rng.uniform(ceiling / 10, ceiling))  # full jitter, a floor
        return min(now + delay, deadline)


def _due(now: datetime) -> Select[Any]:
    o = outbox_t.c
    return (
        select(o.id)
        .where(o.status == "pending", o.due_at <= now)
        .where(or_(o.lease_until.is_(None), o.lease_until <= now))
    )


def has_due(conn: Connection, *, now: datetime) -> bool:
    """Whether any row is due at `now` (a read: an idle dispatcher takes no write lock)."""
    return conn.execute(_due(now).limit(1)).first() is not None


def claim(conn: Connection, *, limit: int, lease: timedelta, now: datetime) -> list[Claim]:
    """Lease up to `limit` due rows to the caller, oldest due first (on PostgreSQL rows that
    another dispatcher is claiming are skipped: `FOR UPDATE SKIP LOCKED`)."""
    o = outbox_t.c
    due = _due(now).order_by(o.due_at, o.id).limit(limit)
    if conn.dialect.name != "sqlite":
        due = due.with_for_update(skip_locked=True)
    until = now + lease
    rows = conn.execute(
        update(outbox_t)
        .where(o.id.in_(due.scalar_subquery()))
        .values(lease_until=until, attempts=o.attempts + 1)
        .returning(
            o.id,
            o.key,
            o.kind,
            o.customer_id,
            o.cause,
            o.payload,
            o.attempts,
            o.created_at,
            o.retry_from,
        )  # fmt: skip
    ).all()
    claims = [
        Claim(
            Delivery(
                r.id, r.key, r.kind, r.customer_id, r.cause, r.payload, r.attempts, r.created_at
            ),
            until,
            r.retry_from or r.created_at,
        )  # fmt: skip
        for r in rows
    ]
    return sorted(claims, key=lambda c: c.delivery.id)


def still_leased(conn: Connection, claims: Sequence[Claim]) -> list[Claim]:
    """The claims whose rows exist and are pending under the very lease of the claim (a read:
    rows handed over at check-in, whose transaction may have rolled back)."""
    o = outbox_t.c
    found: dict[int, tuple[str, datetime | None]] = {}
    ids = [c.delivery.id for c in claims]
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(o.id, o.key, o.lease_until).where(
                o.id.in_(ids[start : start + 500]), o.status == "pending"
            )
        )
        found.update((r.id, (r.key, r.lease_until)) for r in rows)  # fmt: skip
    return [c for c in claims if found.get(c.delivery.id) == (c.delivery.key, c.lease_until)]


def _log(conn: Connection, claim: Claim, outcome: Outcome, *, error: str | None,
         duration_ms: int, now: datetime) -> None:  # fmt: skip
    conn.execute(
        attempts_t.insert(),
        {"outbox_id": claim.delivery.id, "attempt": claim.delivery.attempt, "at": now,
         "ok": outcome.ok, "status": outcome.status, "response": outcome.response[:EXCERPT],
         "error": error and error[:EXCERPT], "duration_ms": duration_ms},
    )  # fmt: skip


def finish(
    conn: Connection,
    claim: Claim,
    outcome: Outcome,
    *,
    retry: Retry,
    now: datetime,
    duration_ms: int = 0,
    error: str | None = None,
    rng: random.Random | None = None,
) -> str | None:
    """Record how a try went and move the row on: `done`, `pending` again (a later try) or
    `dead`. Return the row's new status, or None when the lease had run out and another
    dispatcher holds the row (the try is logged; the row is theirs)."""
    d, o = claim.delivery, outbox_t.c
    due: datetime | None = None
    if outcome.ok:
        status = "done"
    elif outcome.final:
        status = "dead"
    else:
        rng = rng or random.Random()
        due = retry.next_due(attempt=d.attempt, window_start=claim.window_start, now=now, rng=rng)
        status = "dead" if due is None else "pending"
    if error is None and not outcome.ok:
        error = f"answered {outcome.status}" if outcome.status else outcome.response or "failed"
    _log(conn, claim, outcome, error=error, duration_ms=duration_ms, now=now)
    last = outcome.response or error or ""
    values: dict[str, Any] = {
        "status": status,
        "lease_until": None,
        "last_status": outcome.status,
        "last_response": last[:EXCERPT],
    }
    if status == "done":
        values["delivered_at"] = now
    if due is not None:
        values["due_at"] = due
    changed = conn.execute(
        update(outbox_t)
        .where(o.id == d.id, o.status == "pending", o.lease_until == claim.lease_until)
        .values(**values)
    ).rowcount
    return status if changed else None


def replay(conn: Connection, ids: Sequence[int], *, now: datetime, who: Who = SYSTEM) -> int:
    """Make these rows due again with a fresh retry window (dead or done ones: a person
    asked); return how many were replayed (and note it in the audit log). Pending rows are
    left alone."""
    o = outbox_t.c
    replayed = 0
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        replayed += conn.execute(
            update(outbox_t)
            .where(o.id.in_(part), o.status.in_(("dead", "done")))
            .values(status="pending", due_at=now, retry_from=now, attempts=0, lease_until=None)
        ).rowcount
    if replayed:
        subject = ids[0] if len(ids) == 1 else None
        audit.record(conn, who=who, action="delivery.replay", now=now, subject_kind="delivery",
                     subject_id=subject, detail={"replayed": replayed,
                                                 "ids": list(ids[:100])})  # fmt: skip
    if replayed:
        wake.mark(conn)
    return replayed


def kill(conn: Connection, row_id: int, *, reason: str, now: datetime) -> None:
    """Make a row dead at once (e.g. an unknown kind), without a try."""
    o = outbox_t.c
    conn.execute(update(outbox_t).where(o.id == row_id)
                 .values(status="dead", lease_until=None, last_response=reason[:EXCERPT],
                         due_at=now))  # fmt: skip


def erase_customer(conn: Connection, customer_ids: Sequence[int], *, now: datetime) -> int:
    """Empty the payloads of these customers' actions and the answers logged for them; their
    pending actions are not sent any more (dead). Return how many actions were touched."""
    o, a = outbox_t.c, attempts_t.c
    rows = select(o.id).where(o.customer_id.in_(list(customer_ids)))
    conn.execute(update(attempts_t).where(a.outbox_id.in_(rows.scalar_subquery()))
                 .values(response=None, error=None))  # fmt: skip
    conn.execute(update(outbox_t).where(o.customer_id.in_(list(customer_ids)),
                                        o.status == "pending")
                 .values(status="dead", lease_until=None, due_at=now))  # fmt: skip
    return int(conn.execute(
        update(outbox_t).where(o.customer_id.in_(list(customer_ids)))
        .values(payload={}, last_response="erased with the customer")
    ).rowcount)  # fmt: skip

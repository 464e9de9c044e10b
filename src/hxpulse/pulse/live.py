"""The live pulse: what a batch of events changes, applied in the batch's own transaction.

O(1) per event: each event adds one term to its customer's sum S and to I or R (the batch's
terms per customer are summed as a `KeySum`, then log-added to the stored key in SQL). A negative
experience is also recorded in `pulse_negatives` (it counts 12x until resolved); a resolution
finds the negative it resolves (the one named in `properties.resolves`, else the customer's
oldest open one) and removes the extra parts exactly as they were added.

The same update of the row keeps `customers.last_seen_at`, the latest `occurred_at` of the
customer's events, for every customer the batch has an event of (weighted or not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy import update as sql_update

from hxpulse.analytics.pulse import SECONDS_PER_DAY, KeySum, PulseModel, purchase_weight
from hxpulse.config import PulseSettings
from hxpulse.db import raw
from hxpulse.events.batch import Batch
from hxpulse.events.schemas import EventIn
from hxpulse.pulse.keys import pg_key_add, register_key_add, sqlite_has_math, sqlite_key_add
from hxpulse.pulse.models import PulseNegative
from hxpulse.pulse.replay import Negative, pick_negative
from hxpulse.pulse.service import EPOCH, model

negatives_t = cast(Table, PulseNegative.__table__)
NEGATIVE_COLUMNS = ("customer_id", "message_id", "event_type", "component", "weight",
                    "occurred_at")  # fmt: skip


@dataclass(slots=True)
class Change:
    """What a batch adds to one customer's stored sums."""

    terms: KeySum = field(default_factory=KeySum)  # what the batch adds to S
    investments: float = 0.0
    returns: float = 0.0
    last_return: datetime | None = None
    last_stamp: str | None = None  # SQLite: `last_return` as stored, when the insert made it
    opened: int = 0  # negatives opened minus negatives resolved
    # the journey's verdict, written in the same update of the row (None: unchanged)
    stage: str | None = None
    stage_at: datetime | None = None
    detractor: bool | None = None
    journey: str | None = None  # the journey's counters (customers.journey_counters)


@dataclass(slots=True)
class Tally:
    changes: dict[int, Change] = field(default_factory=dict)
    negatives: list[tuple[int, Negative]] = field(default_factory=list)
    resolutions: list[tuple[int, EventIn]] = field(default_factory=list)


def tally(
    settings: PulseSettings,
    events: Sequence[EventIn],
    owners: Sequence[int],
    now: datetime,
    stamps: Sequence[str] | None = None,
) -> Tally:
    """What `events` add to each customer's sums (an event dated after `now` counts as now);
    `stamps`, each event's time as SQLite stores it, saves formatting them again.

    The same sums as `PulseState.add` per event (the tests hold them to it), written as one
    loop because it runs for every event ingested.
    """
    per_second = model(settings).rate / SECONDS_PER_DAY
    epoch = EPOCH.timestamp()
    exp = math.exp
    multiplier = settings.negative_multiplier
    result = Tally()
    changes = result.changes
    by_name, reference = settings.weight_by_name, settings.value_reference  # aliases included
    for i, (event, customer_id) in enumerate(zip(events, owners, strict=True)):
        mapped = by_name.get(event.type)
        if mapped is None or mapped.weight == 0:
            continue
        weight = mapped.weight
        if mapped.per_value:
            weight = purchase_weight(weight, event.value, reference)
        change = changes.get(customer_id)
        if change is None:
            change = changes[customer_id] = Change()
        moment = event.occurred_at if event.occurred_at <= now else now
        if mapped.negative and weight < 0:
            negative = Negative(event.message_id, event.type, mapped.component, weight, moment)
            result.negatives.append((customer_id, negative))
            change.opened += 1
            weight *= multiplier  # unresolved until a resolution lifts the extra parts
        # KeySum.add, inlined: one exp per event, as a plain sum would take
        terms, exponent = change.terms, per_second * (moment.timestamp() - epoch)
        if terms.value == 0.0:
            terms.value, terms.shift = weight, exponent
        elif exponent - terms.shift > 60.0:
            terms.add(weight, exponent)
        else:
            terms.value += weight * exp(exponent - terms.shift)
        if mapped.component == "investment":
            change.investments += weight
        else:
            change.returns += weight
            if mapped.component == "return" and (
                change.last_return is None or moment > change.last_return
            ):
                change.last_return = moment
                change.last_stamp = stamps[i] if stamps is not None and moment is not now else None
        if mapped.resolves:
            result.resolutions.append((customer_id, event))
    return result


def count(batch: Batch) -> None:
    """The ingest step: count the batch's events in their customers' pulse (`prepare`)."""
    batch.changes = prepare(batch.conn, batch.live.pulse, batch.events, batch.owners, batch.now,
                            batch.stamps)  # fmt: skip


def write(batch: Batch) -> None:
    """The ingest step after the journey's: write the pulse sums, stages and the moments last
    seen (`apply`)."""
    apply(batch.conn, batch.changes, last_seen(batch.events, batch.owners, batch.stamps))


Seen = tuple[datetime, str | None]  # a customer's latest occurred_at; SQLite: as stored


def last_seen(
    events: Sequence[EventIn], owners: Sequence[int], stamps: Sequence[str] | None = None
) -> dict[int, Seen]:
    """Each customer's latest `occurred_at` among `events`, as stored (a moment ahead of
    receipt too, as `max(events.occurred_at)` has it), with its SQLite text from `stamps`."""
    latest: dict[int, Seen] = {}
    for i, (event, customer_id) in enumerate(zip(events, owners, strict=True)):
        known = latest.get(customer_id)
        if known is None or event.occurred_at > known[0]:
            latest[customer_id] = (event.occurred_at, stamps[i] if stamps is not None else None)
    return latest


def prepare(
    conn: Connection,
    settings: PulseSettings,
    events: Sequence[EventIn],
    owners: Sequence[int],
    now: datetime,
    stamps: Sequence[str] | None = None,
) -> dict[int, Change]:
    """Count `events` in their customers' pulse, inside the caller's transaction: record and
    resolve negative experiences, and return the changes for `apply` to write."""
    counted = tally(settings, events, owners, now, stamps)
    if counted.negatives:
        _record_negatives(conn, settings, counted)
    if counted.resolutions:
        _resolve(conn, settings, counted, now)
    return counted.changes


def _record_negatives(conn: Connection, settings: PulseSettings, counted: Tally) -> None:
    """Store the new negatives; one already named by an earlier-arriving resolution is stored
    as resolved and its extra parts lifted at once (late arrival stays exact)."""
    ids = [n.message_id for _, n in counted.negatives]
    early = dict(raw.select_in(conn, "SELECT message_id, id FROM pulse_negatives"
                                     " WHERE message_id {in}", ids))  # fmt: skip
    ts = raw.timestamp_writer(conn)
    rows = []
    law = model(settings)
    n = negatives_t.c
    for customer_id, negative in counted.negatives:
        row_id = early.get(negative.message_id)
        if row_id is None:
            n_at = ts(negative.occurred_at)
            rows.append((customer_id, negative.message_id, negative.event_type,
                         negative.component, negative.weight, n_at))  # fmt: skip
            continue
        _lift(counted.changes[customer_id], law, negative)
        conn.execute(sql_update(negatives_t).where(n.id == row_id).values(
            customer_id=customer_id, event_type=negative.event_type,
            component=negative.component, weight=negative.weight,
            occurred_at=negative.occurred_at))  # fmt: skip
    raw.insert_rows(conn, "pulse_negatives", NEGATIVE_COLUMNS, rows)


def _lift(change: Change, law: PulseModel, negative: Negative) -> None:
    """Remove a resolved negative's extra parts from the sums, exactly as they were added."""
    extra = negative.weight * (law.negative_multiplier - 1.0)
    change.terms.add(-extra, law.exponent(negative.occurred_at))
    if negative.component == "investment":
        change.investments -= extra
    else:
        change.returns -= extra
    change.opened -= 1


def _resolve(conn: Connection, settings: PulseSettings, counted: Tally, now: datetime) -> None:
    """Match each resolution with the negative it resolves and lift that negative's extra parts."""
    law = model(settings)
    n = negatives_t.c
    customer_ids = sorted({cid for cid, _ in counted.resolutions})
    open_ones: dict[int, list[tuple[int, Negative]]] = {}
    rows = conn.execute(
        select(n.id, n.customer_id, n.message_id, n.event_type, n.component, n.weight,
               n.occurred_at)
        .where(n.customer_id.in_(customer_ids), n.resolved_at.is_(None))
        .order_by(n.occurred_at, n.message_id)  # ties as the replay breaks them
    )  # fmt: skip
    for row in rows:
        negative = Negative(row.message_id, row.event_type, row.component, row.weight,
                            row.occurred_at)  # fmt: skip
        open_ones.setdefault(row.customer_id, []).append((row.id, negative))
    resolved: list[dict[str, Any]] = []
    for customer_id, event in sorted(counted.resolutions, key=lambda pair: pair[1].occurred_at):
        moment = min(event.occurred_at, now)
        candidates = open_ones.get(customer_id, [])
        named = _named(event)
        target = pick_negative([c for _, c in candidates], named, moment)
        if target is None:
            if named is not None:
                _remember(conn, customer_id, named, event.message_id, moment)
            continue  # nothing open to resolve: the resolution counts its own weight only
        row_id = next(i for i, c in candidates if c is target)
        candidates[:] = [(i, c) for i, c in candidates if c is not target]
        _lift(counted.changes.setdefault(customer_id, Change()), law, target)
        resolved.append({"row_id": row_id, "at": moment, "by": event.message_id})
    if resolved:  # one statement, executed for every row
        conn.execute(sql_update(negatives_t).where(n.id == bindparam("row_id")).values(
            resolved_at=bindparam("at"), resolved_by=bindparam("by")), resolved)  # fmt: skip


def _remember(
    conn: Connection, customer_id: int, named: str, resolved_by: str, moment: datetime
) -> None:
    """A resolution named a negative not seen yet: keep that, for when it arrives."""
    n = negatives_t.c
    if conn.execute(select(n.id).where(n.message_id == named)).first() is not None:
        return  # known and already resolved: a second resolution changes nothing
    conn.execute(negatives_t.insert().values(
        customer_id=customer_id, message_id=named, event_type="", component="experience",
        weight=0.0, occurred_at=moment, resolved_at=moment, resolved_by=resolved_by))  # fmt: skip


def _named(event: EventIn) -> str | None:
    named = event.properties.get("resolves")
    return named if isinstance(named, str) and named else None


# SQLite's two-argument max() is null when either is: the later of the two, or the one given
_SEEN_SQLITE = "last_seen_at = COALESCE(max(last_seen_at, ?{n}), ?{n}, last_seen_at)"


@cache
def _sqlite_updates() -> tuple[str, str, str]:
    """The three updates of `apply` on SQLite (sums only; sums and stage; the moment last seen
    only), numbered parameters."""
    sums = (
        f"UPDATE customers SET pulse_key = {sqlite_key_add('pulse_key', '?1')},"
        " pulse_investments = pulse_investments + ?2, pulse_returns = pulse_returns + ?3,"
        " open_negatives = open_negatives + ?4,"
        " last_return_at = COALESCE(max(last_return_at, ?5), ?5, last_return_at), "
        + _SEEN_SQLITE.format(n=6)
    )
    with_stage = (
        sums + ", stage = COALESCE(?7, stage), stage_at = COALESCE(?8, stage_at),"
        " detractor = COALESCE(?9, detractor), journey_counters = COALESCE(?10, journey_counters)"
    )
    seen = "UPDATE customers SET " + _SEEN_SQLITE.format(n=1) + " WHERE id = ?2"
    return sums + " WHERE id = ?7", with_stage + " WHERE id = ?11", seen  # most: sums only


# d.k null: the batch adds nothing to the sums, only a moment last seen
_APPLY_PG = (
    "UPDATE customers AS c SET pulse_key ="
    f" CASE WHEN d.k IS NULL THEN c.pulse_key ELSE {pg_key_add('c.pulse_key', 'd.k')} END,"
    " pulse_investments = c.pulse_investments + d.i, pulse_returns = c.pulse_returns + d.r,"
    " open_negatives = c.open_negatives + d.o, last_return_at = GREATEST(c.last_return_at, d.l),"
    " stage = COALESCE(d.s, c.stage), stage_at = COALESCE(d.t, c.stage_at),"
    " detractor = COALESCE(d.n, c.detractor), journey_counters = COALESCE(d.j, c.journey_counters),"
    " last_seen_at = GREATEST(c.last_seen_at, d.e)"
    " FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::float8[], %s::int[],"
    " %s::timestamptz[], %s::text[], %s::timestamptz[], %s::bool[], %s::text[],"
    " %s::timestamptz[]) AS d(id, k, i, r, o, l, s, t, n, j, e) WHERE c.id = d.id"
)


_NOTHING = Change()  # a customer the batch only saw: nothing added to its sums


def apply(
    conn: Connection, changes: dict[int, Change], seen: dict[int, Seen] | None = None
) -> None:
    """Write the changes and the moments last seen, one update per customer row, in customer-id
    order (one statement on PostgreSQL): the pulse sums, the overlays' columns, the journey's
    stage and `last_seen_at` (the later of the stored one and the batch's)."""
    seen = seen or {}
    if not changes and not seen:
        return
    ids = sorted(changes.keys() | seen.keys())
    if conn.dialect.name == "sqlite":
        _apply_sqlite(conn, ids, changes, seen)
        return
    ordered = [changes.get(c) or _NOTHING for c in ids]
    columns = (ids, [c.terms.key() if c is not _NOTHING else None for c in ordered],
               [c.investments for c in ordered], [c.returns for c in ordered],
               [c.opened for c in ordered], [c.last_return for c in ordered],
               [c.stage for c in ordered], [c.stage_at for c in ordered],
               [c.detractor for c in ordered], [c.journey for c in ordered],
               [seen[c][0] if c in seen else None for c in ids])  # fmt: skip
    with raw.driver(conn).cursor() as cursor:
        cursor.execute(_APPLY_PG, [raw.pg_array(c) for c in columns])


def _apply_sqlite(
    conn: Connection, ids: list[int], changes: dict[int, Change], seen: dict[int, Seen]
) -> None:
    stamp = raw.sqlite_timestamp
    sums: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    seen_only: list[tuple[Any, ...]] = []
    for cid in ids:
        moment, text = seen.get(cid) or (None, None)
        at_seen = text or (stamp(moment) if moment else None)
        c = changes.get(cid)
        if c is None:
            seen_only.append((at_seen, cid))
            continue
        last = c.last_stamp or (stamp(c.last_return) if c.last_return else None)
        key = c.terms.key()
        if c.stage is None and c.detractor is None and c.journey is None:
            sums.append((key, c.investments, c.returns, c.opened, last, at_seen, cid))
            continue
        flag = None if c.detractor is None else int(c.detractor)
        at = stamp(c.stage_at) if c.stage_at else None
        rows.append((key, c.investments, c.returns, c.opened, last, at_seen, c.stage, at, flag,
                     c.journey, cid))  # fmt: skip
    cursor = raw.driver(conn)
    if not sqlite_has_math():
        register_key_add(cursor)
    apply_sums, apply_all, apply_seen = _sqlite_updates()
    if sums:
        cursor.executemany(apply_sums, sums)
    if rows:
        cursor.executemany(apply_all, rows)
    if seen_only:
        cursor.executemany(apply_seen, seen_only)

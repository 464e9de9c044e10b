"""Event logic: the events domain's part of the ingest transaction (`hxpulse.ingest`).

`receive` stores a batch's new events, idempotent by message id; `apply_traits` is the step
that writes what identify calls carry onto the profiles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, select, update

from hxpulse.config import Live
from hxpulse.customers import service as customers
from hxpulse.customers.traits import consent_update, name_from_traits, newer_consent, split_traits
from hxpulse.db import raw
from hxpulse.events.batch import Batch
from hxpulse.events.models import EVENT_COLUMNS, Event
from hxpulse.events.schemas import EventIn, IngestResult
from hxpulse.privacy import tombstones

events_t = cast(Table, Event.__table__)
customers_t = customers.customers_t


def receive(
    conn: Connection, batch: Sequence[EventIn], *, now: datetime, live: Live
) -> tuple[Batch | None, IngestResult]:
    """Store the new events of `batch` inside the caller's transaction: drop duplicates and
    erased people, resolve identities, insert the rows. Returns the `Batch` the ingest steps
    run on (None: nothing new) and the counts so far."""
    result = IngestResult(received=len(batch))
    unique: dict[str, EventIn] = {}
    for item in batch:
        unique.setdefault(item.message_id, item)
    stored = _stored_message_ids(conn, list(unique))
    fresh = [e for mid, e in unique.items() if mid not in stored]
    result.duplicates = len(batch) - len(fresh)
    known = customers.existing_identities(conn, tombstones.candidates(fresh))
    fresh, erased = tombstones.drop_erased(conn, fresh, known=known)  # erased people: dropped
    result.erased, result.erased_message_ids = len(erased), set(erased)
    if not fresh:
        return None, result
    customers.settle_previous_ids(conn, [e.identities for e in fresh])
    resolution = customers.resolve(
        conn,
        [e.identities for e in fresh],
        now=now,
        message_ids=[e.message_id for e in fresh],
        known=known,
    )
    owner = [resolution.customer_of[e.identities[0]] for e in fresh]
    stamps = _insert_events(conn, fresh, owner, now)
    customers.verify_live(conn, sorted(set(owner)))
    result.stored = len(fresh)
    result.customers_created = len(resolution.created)
    result.merges = sum(len(merged) for _, merged in resolution.merges)
    result.new_message_ids = {e.message_id for e in fresh}
    sqlite = conn.dialect.name == "sqlite"
    return Batch(conn, live, now, fresh, owner, resolution, stamps if sqlite else None), result


def receive_own(
    conn: Connection, batch: Sequence[EventIn], customer_id: int, *, now: datetime, live: Live
) -> Batch:
    """Store events that HX Pulse itself makes for a live customer it has just read in this
    transaction (the offers shown to them): their message ids are new by construction and
    there are no identities to resolve, so only the rows are inserted (on PostgreSQL a
    concurrent merge or erasure of the customer still makes the transaction retry)."""
    fresh = list(batch)
    owner = [customer_id] * len(fresh)
    stamps = _insert_events(conn, fresh, owner, now)
    customers.verify_live(conn, [customer_id])
    sqlite = conn.dialect.name == "sqlite"
    resolution = customers.Resolution()
    return Batch(conn, live, now, fresh, owner, resolution, stamps if sqlite else None)


def _stored_message_ids(conn: Connection, message_ids: list[str]) -> set[str]:
    sql = "SELECT message_id FROM events WHERE message_id {in}"
    return {row[0] for row in raw.select_in(conn, sql, message_ids)}


def _insert_events(
    conn: Connection, batch: list[EventIn], owner: list[int], now: datetime
) -> list[Any]:
    """Insert the rows with the driver's fastest bulk path (executemany / COPY); return each
    event's occurred_at as the driver was given it (SQLite: text)."""
    ts = raw.timestamp_writer(conn)
    received = ts(now)
    stamps = [ts(e.occurred_at) for e in batch]
    # rows in customer order: on PostgreSQL the foreign-key checks then lock customers in
    # ascending id order, like every other customer lock (see customers.service.lock_for_merge)
    ordered = sorted(zip(owner, batch, stamps, strict=True), key=lambda row: row[0])
    rows = [_row(e, cid, stamp, received) for cid, e, stamp in ordered]
    raw.insert_rows(conn, "events", EVENT_COLUMNS, rows)
    return stamps


def _row(e: EventIn, customer_id: int, occurred: object, received: object) -> tuple[Any, ...]:
    context = orjson.dumps(e.context).decode() if e.context is not None else None
    return (
        e.message_id, customer_id, e.kind, e.type, e.name, e.channel, e.department, occurred,
        received, e.value, e.currency, e.source, orjson.dumps(e.properties).decode(), context,
    )  # fmt: skip


def apply_traits(batch: Batch) -> None:
    """Apply the traits, preferences and consent that the new events carry (an ingest step)."""
    with_traits: dict[int, list[EventIn]] = {}
    for e, cid in zip(batch.events, batch.owners, strict=True):
        if e.traits:
            with_traits.setdefault(cid, []).append(e)
    if with_traits:
        _apply_traits(batch.conn, with_traits, batch.now)


def _apply_traits(conn: Connection, updates: dict[int, list[EventIn]], now: datetime) -> None:
    c = customers_t.c
    rows = conn.execute(
        select(c.id, c.name, c.traits, c.preferences, c.consent).where(c.id.in_(list(updates)))
    )
    for row in rows.all():
        traits, preferences, consent = dict(row.traits), dict(row.preferences), dict(row.consent)
        for event in sorted(updates[row.id], key=lambda e: e.occurred_at):
            plain, prefs, answers = split_traits(event.traits or {})
            traits.update(plain)
            preferences.update(prefs)
            via = "import" if event.source == "import" else "event"
            given = consent_update(answers, source=event.message_id, via=via,
                                   at=min(event.occurred_at, now))  # fmt: skip
            consent = newer_consent(consent, given)
        conn.execute(
            update(customers_t)
            .where(c.id == row.id)
            .values(
                traits=traits,
                preferences=preferences,
                consent=consent,
                name=name_from_traits(traits) or row.name,
                updated_at=now,
            )
        )


def add_to_batch(batch: Batch, items: list[EventIn], owners: list[int]) -> None:
    """Insert events an ingest step derives (a referral on the referrer) and add them to
    `batch`, so that the later steps (pulse, journey, rules) count them like the others."""
    stamps = _insert_events(batch.conn, items, owners, batch.now)
    batch.events.extend(items)
    batch.owners.extend(owners)
    if batch.stamps is not None:
        batch.stamps.extend(stamps)

"""Event logic: store a batch of touchpoints in one transaction, idempotent by message id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Engine, Table, select, update

from hxpulse.config import Live
from hxpulse.customers import service as customers
from hxpulse.customers.traits import consent_update, name_from_traits, newer_consent, split_traits
from hxpulse.db import raw
from hxpulse.db.engine import run_write
from hxpulse.events.models import EVENT_COLUMNS, Event
from hxpulse.events.schemas import EventIn, IngestResult
from hxpulse.journey import service as journey
from hxpulse.privacy import tombstones
from hxpulse.pulse import live as pulse_live

events_t = cast(Table, Event.__table__)
DEFAULT_LIVE = Live()
customers_t = customers.customers_t


def ingest(
    engine: Engine,
    batch: Sequence[EventIn],
    *,
    now: datetime | None = None,
    live: Live | None = DEFAULT_LIVE,
) -> IngestResult:
    """Store `batch` in one transaction; return once it is committed.

    `live` is the `[pulse]` and `[journey]` configuration the pulse and stage are updated with
    in the same transaction (None: leave them alone, which only the benchmarks' baseline does).
    """
    moment = now or datetime.now(UTC)
    return run_write(engine, lambda conn: ingest_in(conn, batch, now=moment, live=live))


def ingest_in(
    conn: Connection,
    batch: Sequence[EventIn],
    *,
    now: datetime,
    live: Live | None = DEFAULT_LIVE,
) -> IngestResult:
    """Store `batch` inside the caller's transaction (see `ingest`)."""
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
        return result
    customers.settle_previous_ids(conn, [e.identities for e in fresh])
    resolution = customers.resolve(
        conn,
        [e.identities for e in fresh],
        now=now,
        message_ids=[e.message_id for e in fresh],
        known=known,
    )
    owner = [resolution.customer_of[e.identities[0]] for e in fresh]
    _insert_events(conn, fresh, owner, now)
    customers.verify_live(conn, sorted(set(owner)))
    if live is not None:
        _update_live(conn, live, fresh, owner, resolution, now)
    _update_profiles(conn, fresh, owner, now)
    result.stored = len(fresh)
    result.customers_created = len(resolution.created)
    result.merges = sum(len(merged) for _, merged in resolution.merges)
    result.new_message_ids = {e.message_id for e in fresh}
    return result


def _update_live(
    conn: Connection,
    live: Live,
    fresh: list[EventIn],
    owner: list[int],
    resolution: customers.Resolution,
    now: datetime,
) -> None:
    """The pulse and the journey, written in one update of each customer row."""
    changes = pulse_live.prepare(conn, live.pulse, fresh, owner, now)
    merged = [survivor for survivor, _ in resolution.merges]
    stages = journey.update(conn, live, fresh, owner, created=resolution.created, merged=merged,
                            now=now)  # fmt: skip
    for customer_id, timeline in stages:
        change = changes.setdefault(customer_id, pulse_live.Change())
        change.stage, change.stage_at = timeline.stage, timeline.stage_at
        change.detractor = timeline.detractor
    pulse_live.apply(conn, changes)


def _stored_message_ids(conn: Connection, message_ids: list[str]) -> set[str]:
    sql = "SELECT message_id FROM events WHERE message_id {in}"
    return {row[0] for row in raw.select_in(conn, sql, message_ids)}


def _insert_events(conn: Connection, batch: list[EventIn], owner: list[int], now: datetime) -> None:
    """Insert the rows with the driver's fastest bulk path (executemany / COPY)."""
    ts = raw.timestamp_writer(conn)
    received = ts(now)
    # rows in customer order: on PostgreSQL the foreign-key checks then lock customers in
    # ascending id order, like every other customer lock (see customers.service.lock_for_merge)
    ordered = sorted(zip(owner, batch, strict=True), key=lambda pair: pair[0])
    rows = [_row(e, cid, ts(e.occurred_at), received) for cid, e in ordered]
    raw.insert_rows(conn, "events", EVENT_COLUMNS, rows)


def _row(e: EventIn, customer_id: int, occurred: object, received: object) -> tuple[Any, ...]:
    context = orjson.dumps(e.context).decode() if e.context is not None else None
    return (
        e.message_id, customer_id, e.kind, e.type, e.name, e.channel, e.department, occurred,
        received, e.value, e.currency, e.source, orjson.dumps(e.properties).decode(), context,
    )  # fmt: skip


def _update_profiles(
    conn: Connection, batch: list[EventIn], owner: list[int], now: datetime
) -> None:
    """Apply the traits, preferences and consent that the new events carry."""
    with_traits: dict[int, list[EventIn]] = {}
    for e, cid in zip(batch, owner, strict=True):
        if e.traits:
            with_traits.setdefault(cid, []).append(e)
    if with_traits:
        _apply_traits(conn, with_traits, now)


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

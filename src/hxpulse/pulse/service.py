"""Pulse logic: update the running sums as events arrive; read pulse, parts and the at-risk list."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from hxpulse.analytics.pulse import (
    SECONDS_PER_DAY,
    PulseModel,
    PulseState,
    band,
    purchase_weight,
)
from hxpulse.config import EventWeight, PulseSettings
from hxpulse.customers.service import customers_t
from hxpulse.db import raw
from hxpulse.errors import NotFound
from hxpulse.events.schemas import EventIn

# T0 of the stored key S. Fixed: changing it means rebasing every key (see PulseModel.rebased).
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
Deltas = dict[int, PulseState]


def model(settings: PulseSettings) -> PulseModel:
    """The decay law configured in `[pulse]`."""
    return PulseModel(settings.half_life_days, EPOCH, settings.negative_multiplier)


def event_weight(settings: PulseSettings, event: EventIn) -> tuple[EventWeight, float] | None:
    """The (weight setting, weight) of one event, or None when its type is unmapped."""
    mapped = settings.weight_of(event.type)
    if mapped is None or mapped.weight == 0:
        return None
    weight = mapped.weight
    if mapped.per_value:
        weight = purchase_weight(weight, event.value, settings.value_reference)
    return mapped, weight


def deltas(
    settings: PulseSettings, events: Sequence[EventIn], owners: Sequence[int], now: datetime
) -> Deltas:
    """What `events` add to each customer's sums (an event dated after `now` counts as now).

    The same sums as `PulseState.add` per event (the tests hold them to it), written as one
    loop because it runs for every event ingested.
    """
    law = model(settings)
    per_second = law.rate / SECONDS_PER_DAY
    epoch, latest = EPOCH.timestamp(), now.timestamp()
    multiplier = settings.negative_multiplier
    changes: Deltas = {}
    for event, customer_id in zip(events, owners, strict=True):
        found = event_weight(settings, event)
        if found is None:
            continue
        mapped, weight = found
        if mapped.negative and weight < 0:
            weight *= multiplier  # unresolved until a resolution lifts the extra parts
        state = changes.get(customer_id)
        if state is None:
            state = changes[customer_id] = PulseState()
        moment = min(event.occurred_at.timestamp(), latest)
        state.key += weight * math.exp(per_second * (moment - epoch))
        if mapped.component == "investment":
            state.investments += weight
        else:
            state.returns += weight
    return changes


_APPLY = (
    "UPDATE customers SET pulse_key = pulse_key + ?, pulse_investments = pulse_investments + ?,"
    " pulse_returns = pulse_returns + ? WHERE id = ?"
)
_APPLY_PG = (
    "UPDATE customers AS c SET pulse_key = c.pulse_key + d.k,"
    " pulse_investments = c.pulse_investments + d.i, pulse_returns = c.pulse_returns + d.r"
    " FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::float8[]) AS d(id, k, i, r)"
    " WHERE c.id = d.id"
)


def apply(conn: Connection, changes: Deltas) -> None:
    """Add the changes to the stored sums, in customer-id order (one statement on PostgreSQL)."""
    if not changes:
        return
    ids = sorted(changes)
    if conn.dialect.name == "sqlite":
        rows = [(changes[c].key, changes[c].investments, changes[c].returns, c) for c in ids]
        raw.driver(conn).executemany(_APPLY, rows)
        return
    columns = (ids, [changes[c].key for c in ids], [changes[c].investments for c in ids],
               [changes[c].returns for c in ids])  # fmt: skip
    with raw.driver(conn).cursor() as cursor:
        cursor.execute(_APPLY_PG, columns)


def explain(
    conn: Connection, settings: PulseSettings, *, customer_id: int, now: datetime
) -> dict[str, Any]:
    """The customer's pulse now: P, I, R, D and the band."""
    c = customers_t.c
    row = conn.execute(
        select(c.pulse_key, c.pulse_investments, c.pulse_returns).where(c.id == customer_id)
    ).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    state = PulseState(row.pulse_key, row.pulse_investments, row.pulse_returns)
    parts = state.at(model(settings), now)
    return {"customer_id": customer_id, "pulse": parts.pulse, "investments": parts.investments,
            "returns": parts.returns, "decay": parts.decay,
            "band": band(parts.pulse, settings.bands), "as_of": now}  # fmt: skip


def at_risk(
    conn: Connection, settings: PulseSettings, *, limit: int, now: datetime
) -> list[dict[str, Any]]:
    """The `limit` live customers with the lowest pulse now: an index scan on the key S."""
    c = customers_t.c
    law = model(settings)
    rows = conn.execute(
        select(c.id, c.name, c.pulse_key)
        .where(c.merged_into_id.is_(None))
        .order_by(c.pulse_key, c.id)
        .limit(limit)
    )
    pulses = [(r, law.pulse(r.pulse_key, now)) for r in rows]
    return [{"customer_id": r.id, "name": r.name, "pulse": p, "band": band(p, settings.bands)}
            for r, p in pulses]  # fmt: skip

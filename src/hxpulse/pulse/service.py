"""Pulse reads: one customer's pulse explained, its curve, who is at risk, who moved, the spread.

The stored sums are kept current by pulse/live.py as events arrive; everything here reads them
(index queries on the pulse key) or replays a customer's events (pulse/replay.py) to explain them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, case, func, literal, null, select

from hxpulse.analytics.pulse import PulseModel, brute_force
from hxpulse.config import EventWeight, Live, PulseSettings
from hxpulse.customers.service import customers_t
from hxpulse.db import raw
from hxpulse.errors import Invalid, NotFound
from hxpulse.events.models import Event
from hxpulse.events.schemas import EventIn
from hxpulse.journey.models import StageChange
from hxpulse.pulse.asof import EARLIEST, check_moment, list_moment
from hxpulse.pulse.replay import LoggedEvent, Replay, replay

# T0 of the stored key: the earliest moment accepted, so that every term is at least its weight
# (no term of an accepted event is too small for a float); the key is in log space, so T0 never
# needs moving (see analytics/pulse.py)
EPOCH = EARLIEST
TREND_DAYS = 30
events_t = cast(Table, Event.__table__)
stage_changes_t = cast(Table, StageChange.__table__)


def model(settings: PulseSettings) -> PulseModel:
    """The decay law configured in `[pulse]`."""
    return PulseModel(settings.half_life_days, EPOCH, settings.negative_multiplier)


def event_weight(settings: PulseSettings, event: EventIn) -> tuple[EventWeight, float] | None:
    """The (weight setting, weight) of one event, or None when its type is unmapped."""
    return settings.weigh(event.type, event.value)


def resolving_types(settings: PulseSettings) -> list[str]:
    """The names of events that resolve a negative experience (their aliases included)."""
    return settings.names_of(t for t, w in settings.weights.items() if w.resolves)


def log_query(settings: PulseSettings) -> Select[Any]:
    """The pulse-relevant columns of events (the properties only of resolutions)."""
    e = events_t.c
    resolving = resolving_types(settings)
    props = case((e.type.in_(resolving), e.properties), else_=None) if resolving else null()
    return select(e.customer_id, e.message_id, e.type, e.occurred_at, e.value,
                  props.label("props"))  # fmt: skip


def logged(row: Any) -> LoggedEvent:
    """One row of `log_query` as the replay reads it."""
    named = row.props.get("resolves") if isinstance(row.props, dict) else None
    return LoggedEvent(row.message_id, row.type, row.occurred_at, row.value,
                       named if isinstance(named, str) else None)  # fmt: skip


def logged_events(
    conn: Connection, settings: PulseSettings, customer_ids: Sequence[int]
) -> dict[int, list[LoggedEvent]]:
    """The pulse-relevant columns of every event of `customer_ids`."""
    query = log_query(settings).where(events_t.c.customer_id.in_(list(customer_ids)))
    found: dict[int, list[LoggedEvent]] = {cid: [] for cid in customer_ids}
    for row in conn.execute(query):
        found[row.customer_id].append(logged(row))
    return found


def _row(conn: Connection, customer_id: int) -> Any:
    c = customers_t.c
    row = conn.execute(
        select(c.id, c.pulse_key, c.pulse_investments, c.pulse_returns, c.stage, c.stage_at,
               c.open_negatives, c.detractor, c.last_return_at, c.created_at)
        .where(c.id == customer_id)
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return row


@dataclass(frozen=True, slots=True)
class _Standing:
    """A customer's pulse and overlays' inputs at a moment, stored or replayed."""

    pulse: float
    investments: float
    returns: float
    open_negatives: int
    last_return_at: datetime | None
    stage: str | None
    stage_at: datetime | None
    detractor: bool
    replayed: bool


def _standing(
    conn: Connection, live: Live, row: Any, events: list[LoggedEvent], now: datetime,
    moment: datetime,
) -> tuple[_Standing, Replay]:  # fmt: skip
    """The stored sums when no event counts after `moment` (they are exact then), else the
    customer's events up to `moment` replayed, with the stage and NPS state of that moment."""
    settings, law = live.pulse, model(live.pulse)
    if all(min(e.occurred_at, now) <= moment for e in events):
        return _Standing(law.pulse(row.pulse_key, moment), row.pulse_investments,
                         row.pulse_returns, row.open_negatives, row.last_return_at, row.stage,
                         row.stage_at, bool(row.detractor), False), replay(
            settings, law, events, now)  # fmt: skip
    log = replay(settings, law, [e for e in events if e.occurred_at <= moment], moment)
    parts = log.state.at(law, moment)
    s = stage_changes_t.c
    stage = conn.execute(
        select(s.to_stage, s.changed_at).where(s.customer_id == row.id, s.changed_at <= moment)
        .order_by(s.changed_at.desc(), s.id.desc()).limit(1)
    ).first()  # fmt: skip
    nps = [e for e in events if e.type in live.journey.nps_events and e.occurred_at <= moment]
    last_nps = max(nps, key=lambda e: (e.occurred_at, e.message_id), default=None)
    detractor = last_nps is not None and last_nps.type in live.journey.detractor_events
    return _Standing(parts.pulse, parts.investments, parts.returns, log.open_negatives,
                     log.last_return_at, stage[0] if stage else None,
                     stage[1] if stage else None, detractor, True), log  # fmt: skip


def explain(
    conn: Connection,
    live: Live,
    *,
    customer_id: int,
    now: datetime,
    as_of: datetime | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """The customer's pulse now (or as of `as_of`, exactly): P, I, R, D, band, trend, stage,
    overlays and the events that count most."""
    law = model(live.pulse)
    moment = now if as_of is None else as_of
    row = _row(conn, customer_id)
    events = logged_events(conn, live.pulse, [customer_id])[customer_id]
    got, log = _standing(conn, live, row, events, now, moment)
    pulse = got.pulse
    before = brute_force(
        law, [c for _, c in log.contributions], moment - timedelta(days=TREND_DAYS)
    )
    from hxpulse.pulse import bands  # it reads this module's law

    pulse_band = bands.classify(
        bands.bounds(conn, live, moment),
        stage=got.stage or live.journey.stage_names[0],
        key=law.key_threshold(pulse, moment),
        last_return_at=got.last_return_at,
        created_at=row.created_at,
        open_negatives=got.open_negatives,
        detractor=got.detractor,
    )
    contributions: list[dict[str, Any]] = []
    for event, c in log.contributions:
        counted = law.effective_weight(c.weight, unresolved_negative=c.unresolved_at(moment))
        days = (moment - c.occurred_at).total_seconds() / 86_400.0
        contributions.append({
            "message_id": event.message_id, "type": event.type, "occurred_at": c.occurred_at,
            "component": c.component, "weight": counted,
            "now": counted * math.exp(-law.rate * max(days, 0.0)),
        })  # fmt: skip
    contributions.sort(key=lambda item: -abs(item["now"]))
    return {
        "customer_id": customer_id, "pulse": pulse, "investments": got.investments,
        "returns": got.returns, "decay": got.investments + got.returns - pulse,
        "band": pulse_band, "trend": pulse - before.pulse, "trend_days": TREND_DAYS,
        "stage": got.stage, "stage_at": got.stage_at,
        "at_risk": pulse_band == "at-risk", "lapsed": pulse_band == "lapsed",
        "open_negatives": got.open_negatives,
        "last_return_at": got.last_return_at,
        "top_events": contributions[:top], "as_of": moment, "replayed": got.replayed,
    }  # fmt: skip


def history(
    conn: Connection,
    settings: PulseSettings,
    *,
    customer_id: int,
    start: datetime | None,
    end: datetime,
    points: int = 120,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The pulse curve over [start, end], reconstructed from the events up to `end` (start: the
    first event); with `now`, both must be accepted moments (1970 to now + 1 day)."""
    if not 2 <= points <= 2000:
        raise Invalid("points must be between 2 and 2000",
                      errors=[{"field": "points", "message": "between 2 and 2000"}])  # fmt: skip
    law = model(settings)
    if now is not None:
        end = check_moment(end, now=now, field="end")
        start = None if start is None else check_moment(start, now=now, field="start")
    events = logged_events(conn, settings, [customer_id])[customer_id]
    # the curve up to `end` knows nothing later (an event dated after the clock counts at it)
    clock = end if now is None else now
    known = [e for e in events if min(e.occurred_at, clock) <= end]
    log = replay(settings, law, known, min(clock, end))
    contributions = [c for _, c in log.contributions]
    if start is None:
        first = min((c.occurred_at for c in contributions), default=end - timedelta(days=365))
        start = min(first, end - timedelta(days=1))
    if start >= end:
        raise Invalid("start must be before end",
                      errors=[{"field": "start", "message": "must be before end"}])  # fmt: skip
    step = (end - start) / (points - 1)
    curve = []
    for n in range(points):
        moment = start + step * n
        parts = brute_force(law, contributions, moment)
        curve.append({"at": moment, "pulse": parts.pulse, "investments": parts.investments,
                      "returns": parts.returns, "decay": parts.decay})  # fmt: skip
    return curve


def with_pulse(
    conn: Connection, items: list[dict[str, Any]], live: Live, now: datetime
) -> list[dict[str, Any]]:
    """Replace each item's stored key `pulse_key` by its pulse now, and give its band (items
    carry `stage`, `created_at`, `last_return_at`, `open_negatives` and `detractor`)."""
    from hxpulse.pulse import bands  # it reads this module's law

    law = model(live.pulse)
    edges = bands.bounds(conn, live, now) if items else None
    for item in items:
        key = item.pop("pulse_key")
        item["pulse"] = law.pulse(key, now)
        if edges is not None:
            item["band"] = bands.classify(
                edges, stage=item["stage"], key=key, last_return_at=item.pop("last_return_at"),
                created_at=item["created_at"], open_negatives=item.pop("open_negatives"),
                detractor=bool(item.pop("detractor")))  # fmt: skip
    return items


def unmapped(conn: Connection, settings: PulseSettings) -> list[dict[str, Any]]:
    """Event types in the log that have no weight (and so count zero), most frequent first."""
    e = events_t.c
    rows = conn.execute(select(e.type, func.count()).group_by(e.type))
    found = [{"type": t, "events": n} for t, n in rows if settings.weight_of(t) is None]
    return sorted(found, key=lambda item: (-item["events"], item["type"]))


def distribution(
    conn: Connection,
    settings: PulseSettings,
    now: datetime,
    bins: int = 40,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """A histogram of pulse now (or as of `as_of`, as `bands`) over live customers, the top
    1% folded into the last bin."""
    now = list_moment(conn, settings, now=now, as_of=as_of)
    c = customers_t.c
    law = model(settings)
    live = c.merged_into_id.is_(None)
    total = conn.execute(select(func.count()).where(live)).scalar_one()
    if total == 0:
        return {"edges": [], "counts": [], "total": 0}
    low_key = conn.execute(select(func.min(c.pulse_key)).where(live)).scalar_one()
    high_key = conn.execute(
        select(c.pulse_key).where(live).order_by(c.pulse_key.desc())
        .offset(total // 100).limit(1)
    ).scalar_one()  # fmt: skip
    low, high = law.pulse(low_key, now), law.pulse(high_key, now)
    width = (high - low) / bins if high > low else 1.0
    edges = [low + width * i for i in range(bins + 1)]
    # bin n holds pulses from edge n on, the last one everything above: ranges of the key
    bucket = _bucket(c.pulse_key, [law.key_threshold(edge, now) for edge in edges[1:bins]])
    binned = select(bucket.label("bin")).where(live).subquery()
    counts = [0] * bins
    for n, count in conn.execute(select(binned.c.bin, func.count()).group_by(binned.c.bin)):
        counts[int(n)] += count
    return {"edges": edges, "counts": counts, "total": total}


def _bucket(key: Any, bounds: list[float], offset: int = 0) -> Any:
    """The bin of `key` among the sorted `bounds` (bin i: from bound i − 1 to bound i), as a
    balanced CASE: log2(bins) comparisons a row."""
    if not bounds:
        return literal(offset)
    mid = len(bounds) // 2
    return case((key < bounds[mid], _bucket(key, bounds[:mid], offset)),
                else_=_bucket(key, bounds[mid + 1 :], offset + mid + 1))  # fmt: skip


def movers(
    conn: Connection,
    settings: PulseSettings,
    now: datetime,
    *,
    days: int = 7,
    limit: int = 10,
    as_of: datetime | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The customers whose pulse rose and fell most over the `days` before now (or `as_of`),
    from the events in that window.

    Customers without events in the window only decay, by the same share for everyone; the
    candidates are ranked by what their window events added, then replayed exactly (from
    their events up to the moment: any moment is exact).
    """
    law = model(settings)
    moment = now if as_of is None else as_of
    since = moment - timedelta(days=days)
    e = events_t.c
    added: dict[int, float] = {}
    # only types that weigh count: the (type, occurred_at) index then reads just the window
    counted = sorted(name for name, w in settings.weight_by_name.items() if w.weight != 0)
    window = e.type.in_(counted) & (e.occurred_at >= since)
    if moment < now:
        window &= e.occurred_at <= moment
    rows = conn.execute(select(e.customer_id, e.type, e.value).where(window))
    for customer_id, event_type, value in rows:
        found = settings.weigh(event_type, value)
        if found is None:
            continue
        mapped, weight = found
        if mapped.negative and weight < 0:
            weight *= settings.negative_multiplier
        added[customer_id] = added.get(customer_id, 0.0) + weight
    ranked = sorted(added, key=lambda cid: added[cid])
    candidates = sorted(set(ranked[: limit * 5]) | set(ranked[-limit * 5 :]))
    logs = logged_events(conn, settings, candidates)
    if moment < now:
        logs = {cid: [ev for ev in log if ev.occurred_at <= moment] for cid, log in logs.items()}
    names = dict(
        raw.select_in(conn, "SELECT id, name FROM customers WHERE id {in}", candidates)
    ) if candidates else {}  # fmt: skip
    moved: list[dict[str, Any]] = []
    for cid in candidates:
        contributions = [c for _, c in replay(settings, law, logs[cid], now).contributions]
        then = brute_force(law, contributions, since).pulse
        current = brute_force(law, contributions, moment).pulse
        moved.append({"customer_id": cid, "name": names.get(cid), "pulse": current,
                      "before": then, "change": current - then})  # fmt: skip
    rises = sorted((m for m in moved if m["change"] > 0), key=lambda m: -m["change"])
    falls = sorted((m for m in moved if m["change"] < 0), key=lambda m: m["change"])
    return {"rises": rises[:limit], "falls": falls[:limit]}

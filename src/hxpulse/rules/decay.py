"""The decay check: customers whose pulse fell below a rule's threshold by decay alone.

P(t) < x ⇔ key < key_threshold(x, t), and the threshold key grows with t, so the customers who
crossed x between the last check and now, with no event, are exactly the key range
[key_threshold(x, last), key_threshold(x, now)): an index range on `customers.pulse_key`. The
last check's moment is kept in `meta`; each check fires once per customer crossing, with the
cause `decay@<now>` (the ranges of two checks never overlap). The first check only notes the
moment. Band rules wait for time, not for a pulse value (`pulse.bands`): a customer enters
at-risk, lapsed or cold by decay alone when their last return (`coalesce(last_return_at,
created_at)`) passes `fall` or `lapsed` half-lives before now; the customers whose last return
is in [edge at the last check, edge now) are classified at both moments and fire when their
band changed to the one a rule waits for. Thriving and steady are never entered by decay alone:
every pulse decays at the same rate, so ranks do not change. (`last_return_at` has no index:
on SQLite one more index costs every ingested event about 10 µs, so this range is a scan.)
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, and_, func, insert, or_, select, update

from hxpulse.auth.models import Meta
from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.db.engine import run_write
from hxpulse.outbox.dispatch import Context
from hxpulse.pulse import bands
from hxpulse.pulse.service import model
from hxpulse.rules.evaluate import Trigger, Verdict, firings_t
from hxpulse.rules.service import fire_many

CHECKED = "rules.decay_checked_at"
INTERVAL = 30.0  # seconds between checks (the issue asks for at least one a minute)
meta_t = cast(Table, Meta.__table__)


def check(conn: Connection, live: Live, *, now: datetime) -> list[Verdict]:
    """Fire the `pulse_below` rules for every customer who decayed below their threshold since
    the last check, and the band rules for every customer whom time alone moved into their
    band (module doc), inside the caller's transaction."""
    crossings = _crossings(live)
    timed = _band_rules(live)
    last = _swap(conn, now) if crossings or timed else None
    if last is None or last >= now:
        return []
    law = model(live.pulse)
    c = customers_t.c
    triggers = []
    for threshold, kind, name, _ in crossings:
        low, high = law.key_threshold(threshold, last), law.key_threshold(threshold, now)
        rows = conn.execute(
            select(c.id, c.pulse_key).where(c.merged_into_id.is_(None), c.pulse_key >= low,
                                            c.pulse_key < high).order_by(c.id)
        )  # fmt: skip
        found = rows.all()
        fired = _fired_since(conn, kind, name, [cid for cid, _ in found], last)
        for cid, key in found:
            if cid in fired:
                continue  # an event moved it across since the last check: fired already
            data = {"threshold": threshold, "pulse": law.pulse(key, now), "since": last.isoformat()}
            triggers.append(Trigger(kind, name, cid, f"decay@{now.isoformat()}", data))
    if timed:
        triggers += _band_crossings(conn, live, timed, last, now)
    return fire_many(conn, live, triggers, now=now) if triggers else []


def _crossings(live: Live) -> list[tuple[float, str, str, str | None]]:
    """(threshold, trigger kind, trigger name, None) of each pulse value a rule waits for."""
    found: set[tuple[float, str, str, str | None]] = {
        (r.trigger.pulse_below, "pulse", r.trigger.name, None)
        for r in live.rules.of("pulse") if r.trigger.pulse_below
    }  # fmt: skip
    return sorted(found, key=lambda item: (item[0], item[1], item[2]))


def _band_rules(live: Live) -> set[str]:
    """The bands that rules wait for and that decay alone can enter."""
    return {r.trigger.name for r in live.rules.of("band")} & {"at-risk", "lapsed", "cold"}


def _band_crossings(
    conn: Connection, live: Live, wanted: set[str], last: datetime, now: datetime
) -> list[Trigger]:
    """Customers whose band became one of `wanted` between `last` and `now` by time alone."""
    later = bands.recent_bounds(conn, live, now)
    earlier = bands.edges(live, last, later.top_key)
    c = customers_t.c
    since = func.coalesce(c.last_return_at, c.created_at)
    ranges = [and_(since >= earlier.quiet, since < later.quiet),
              and_(since >= earlier.gone, since < later.gone)]  # fmt: skip
    rows = conn.execute(
        select(c.id, c.stage, c.pulse_key, c.last_return_at, c.created_at, c.open_negatives,
               c.detractor).where(c.merged_into_id.is_(None), or_(*ranges)).order_by(c.id)
    ).all()  # fmt: skip
    found: list[Trigger] = []
    by_band: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        state = {"stage": r.stage, "key": r.pulse_key, "last_return_at": r.last_return_at,
                 "created_at": r.created_at, "open_negatives": r.open_negatives,
                 "detractor": bool(r.detractor)}  # fmt: skip
        was, to = bands.classify(earlier, **state), bands.classify(later, **state)
        if to != was and to in wanted:
            by_band.setdefault(to, []).append((r.id, was))
    law = model(live.pulse)
    keys = {r.id: r.pulse_key for r in rows}
    for name, moved in sorted(by_band.items()):
        fired = _fired_since(conn, "band", name, [cid for cid, _ in moved], last)
        for cid, was in moved:
            if cid not in fired:  # else an event moved it there since the last check
                found.append(Trigger("band", name, cid, f"decay@{now.isoformat()}",
                                     {"from": was, "to": name, "since": last.isoformat(),
                                      "pulse": law.pulse(keys[cid], now)}))  # fmt: skip
    return found


def _fired_since(
    conn: Connection, kind: str, name: str, ids: list[int], since: datetime
) -> set[int]:
    """Who among `ids` a `kind name` trigger fired a rule for after `since`."""
    f = firings_t.c
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(f.customer_id).where(f.trigger_kind == kind, f.trigger_name == name,
                                        f.customer_id.in_(ids[start : start + 500]),
                                        f.fired_at > since)
        )  # fmt: skip
        found.update(row[0] for row in rows)
    return found


def _swap(conn: Connection, now: datetime) -> datetime | None:
    """The last check's moment (locked until commit on PostgreSQL), replaced by `now`."""
    m = meta_t.c
    found = conn.execute(select(m.value).where(m.key == CHECKED).with_for_update()).scalar()
    if found is None:
        conn.execute(insert(meta_t), {"key": CHECKED, "value": now.isoformat()})
        return None
    last = datetime.fromisoformat(str(found))
    if last < now:
        conn.execute(update(meta_t).where(m.key == CHECKED).values(value=now.isoformat()))
    return last


def job(context: Context) -> None:
    """The dispatcher's job: one check in its own transaction."""
    live = context.settings.live
    if _crossings(live) or _band_rules(live):
        run_write(context.engine, lambda conn: check(conn, live, now=context.now))

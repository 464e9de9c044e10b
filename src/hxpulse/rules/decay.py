"""The decay check: customers whose pulse fell below a rule's threshold by decay alone.

P(t) < x ⇔ key < key_threshold(x, t), and the threshold key grows with t, so the customers who
crossed x between the last check and now, with no event, are exactly the key range
[key_threshold(x, last), key_threshold(x, now)): an index range on `customers.pulse_key`. The
last check's moment is kept in `meta`; each check fires once per customer crossing, with the
cause `decay@<now>` (the ranges of two checks never overlap). The first check only notes the
moment. Band rules are checked the same way: decaying into a band is falling below the lowest
pulse of the band above it.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, insert, select, update

from hxpulse.auth.models import Meta
from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.db.engine import run_write
from hxpulse.outbox.dispatch import Context
from hxpulse.pulse.service import model
from hxpulse.rules.evaluate import Trigger, Verdict, firings_t
from hxpulse.rules.service import fire_many

CHECKED = "rules.decay_checked_at"
INTERVAL = 30.0  # seconds between checks (the issue asks for at least one a minute)
meta_t = cast(Table, Meta.__table__)


def check(conn: Connection, live: Live, *, now: datetime) -> list[Verdict]:
    """Fire the `pulse_below` rules for every customer who decayed below their threshold since
    the last check, and the band rules for every customer who decayed into their band (below
    the lowest pulse of the band above it), inside the caller's transaction."""
    crossings = _crossings(live)
    last = _swap(conn, now) if crossings else None
    if last is None or last >= now:
        return []
    law = model(live.pulse)
    c = customers_t.c
    triggers = []
    for threshold, kind, name, above in crossings:
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
            if kind == "band":
                data |= {"from": above, "to": name}
            triggers.append(Trigger(kind, name, cid, f"decay@{now.isoformat()}", data))
    return fire_many(conn, live, triggers, now=now) if triggers else []


def _crossings(live: Live) -> list[tuple[float, str, str, str | None]]:
    """(threshold, trigger kind, trigger name, band above) of each crossing a rule waits for:
    `below:X` for pulse rules; for a band rule, the lowest pulse of the band just above it
    (decay only lowers a positive pulse, so a band is entered by decay only from above)."""
    found: set[tuple[float, str, str, str | None]] = {
        (r.trigger.pulse_below, "pulse", r.trigger.name, None)
        for r in live.rules.of("pulse") if r.trigger.pulse_below
    }  # fmt: skip
    wanted = {r.trigger.name for r in live.rules.of("band")}
    ladder = sorted(live.pulse.bands.items(), key=lambda item: item[1])  # lowest first
    names = ["at-risk", *(name for name, _ in ladder)]
    for index, (above, lowest) in enumerate(ladder):
        if names[index] in wanted and lowest > 0:
            found.add((lowest, "band", names[index], above))
    return sorted(found, key=lambda item: (item[0], item[1], item[2]))


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
    if _crossings(live):
        run_write(context.engine, lambda conn: check(conn, live, now=context.now))

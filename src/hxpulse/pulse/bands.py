"""The bands: one reading of every relationship now, for the Pulse page, the at-risk list, the
funnel's overlays, segments, rules and the dashboard.

Customers (at `[pulse.bands] customer_stage` or a later stage), measured in half-lives of the
pulse since their last return (`coalesce(last_return_at, created_at)`):

- **lapsed**: no return for `lapsed` half-lives (default 2, 180 days): the pulse has decayed to
  a quarter or less of what it was when the customer last gave something back. Gone quiet.
- **at-risk**: not lapsed, and in trouble now: an unresolved negative experience, a detractor's
  last NPS answer, a pulse below zero, or no return for `fall` half-lives (default 1): the pulse
  has halved against the customer's own level at their last return.
- **thriving**: the rest whose pulse is in the top `thriving_share` (default 25%) of the rest,
  a quantile of the business's own customers (ranking by the key is ranking by the pulse).
- **steady**: the rest.

Prospects and leads (earlier stages) are **warm** (a return, or their first touchpoint,
within `fall` half-lives) or **cold**. Every threshold is relative: to the half-life, to the
customer's own last return, to the quantiles of the base; none is a fixed pulse value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, not_, or_, select
from sqlalchemy.sql import ColumnElement

from hxpulse.analytics.pulse import BANDS
from hxpulse.config import Live
from hxpulse.customers.service import customers_t
from hxpulse.pulse.asof import list_moment
from hxpulse.pulse.service import model

c = customers_t.c


@dataclass(frozen=True, slots=True)
class Bounds:
    """The bands' edges at one moment: `quiet` and `gone` (a last return before them: fallen,
    lapsed), the stages that count as customers, and the lowest key of thriving (None: no one
    is thriving, or not computed)."""

    now: datetime
    quiet: datetime
    gone: datetime
    customer_stages: tuple[str, ...]
    top_key: float | None = None


def edges(live: Live, now: datetime, top_key: float | None = None) -> Bounds:
    """The bands' edges at `now` that need no query (thriving's edge: `bounds`)."""
    settings = live.pulse.bands
    half_life = timedelta(days=live.pulse.half_life_days)
    names = live.journey.stage_names
    first = names.index(settings.customer_stage) if settings.customer_stage in names else 0
    return Bounds(now, now - half_life * settings.fall, now - half_life * settings.lapsed,
                  tuple(names[first:]), top_key)  # fmt: skip


def bounds(conn: Connection, live: Live, now: datetime) -> Bounds:
    """Every edge at `now`, thriving's included: the key at the `thriving_share` quantile of
    the healthy customers (one count and one index scan on the key)."""
    found = edges(live, now)
    healthy = and_(c.merged_into_id.is_(None), _healthy(found))
    total = conn.execute(select(func.count()).where(healthy)).scalar_one()
    top = int(total * live.pulse.bands.thriving_share)
    if top == 0:
        return found
    key = conn.execute(
        select(c.pulse_key).where(healthy).order_by(c.pulse_key.desc()).limit(1).offset(top - 1)
    ).scalar()
    return edges(live, now, None if key is None else float(key))


def _since() -> ColumnElement[Any]:
    return func.coalesce(c.last_return_at, c.created_at)


def _trouble() -> ColumnElement[bool]:
    return or_(c.open_negatives > 0, c.detractor.is_(True), c.pulse_key < 0.0)


def _customer(b: Bounds) -> ColumnElement[bool]:
    return c.stage.in_(b.customer_stages)


def _healthy(b: Bounds) -> ColumnElement[bool]:
    return and_(_customer(b), _since() >= b.quiet, not_(_trouble()))


def band_sql(b: Bounds, name: str) -> ColumnElement[bool]:
    """Customers in band `name` at `b.now`, as a condition on `customers`."""
    since = _since()
    if name == "lapsed":
        return and_(_customer(b), since < b.gone)
    if name == "at-risk":
        return and_(_customer(b), since >= b.gone, or_(_trouble(), since < b.quiet))
    if name == "thriving":
        return and_(_healthy(b), c.pulse_key >= b.top_key) if b.top_key is not None else false()
    if name == "steady":
        healthy = _healthy(b)
        return healthy if b.top_key is None else and_(healthy, c.pulse_key < b.top_key)
    if name == "warm":
        return and_(not_(_customer(b)), since >= b.quiet)
    if name == "cold":
        return and_(not_(_customer(b)), since < b.quiet)
    raise ValueError(f"unknown band {name!r}")


def needs_top(names: Any) -> bool:
    """Whether reading these bands needs thriving's edge (`bounds` rather than `edges`)."""
    return any(name in ("thriving", "steady") for name in names)


def classify(
    b: Bounds,
    *,
    stage: str,
    key: float,
    last_return_at: datetime | None,
    created_at: datetime,
    open_negatives: int,
    detractor: bool,
) -> str:
    """The band of one customer at `b.now` (the same as `band_sql`)."""
    since = last_return_at or created_at
    if stage not in b.customer_stages:
        return "warm" if since >= b.quiet else "cold"
    if since < b.gone:
        return "lapsed"
    if open_negatives > 0 or detractor or key < 0.0 or since < b.quiet:
        return "at-risk"
    return "thriving" if b.top_key is not None and key >= b.top_key else "steady"


def reasons(
    b: Bounds, *, key: float, last_return_at: datetime | None, created_at: datetime,
    open_negatives: int, detractor: bool,
) -> list[str]:  # fmt: skip
    """Why an at-risk customer is at risk, in plain words (most pressing first)."""
    found = []
    if open_negatives > 0:
        found.append(f"{open_negatives} unresolved negative experience"
                     + ("s" if open_negatives > 1 else ""))  # fmt: skip
    if detractor:
        found.append("last NPS answer a detractor's")
    if key < 0.0:
        found.append("pulse below zero")
    since = last_return_at or created_at
    if since < b.quiet:
        found.append(f"no return for {(b.now - since).days} days")
    return found


def counts(
    conn: Connection, live: Live, now: datetime, as_of: datetime | None = None
) -> dict[str, int]:
    """Live customers per band now (or as of `as_of`, when no event counts after it), every
    band named: customers' bands, then prospects' and leads'."""
    now = list_moment(conn, live.pulse, now=now, as_of=as_of)
    b = bounds(conn, live, now)
    found = dict.fromkeys(BANDS, 0)
    label = case(*((band_sql(b, name), name) for name in BANDS), else_="")
    rows = conn.execute(select(label, func.count()).where(c.merged_into_id.is_(None))
                        .group_by(label))  # fmt: skip
    for name, n in rows:
        if name in found:
            found[name] = int(n)
    return found


def at_risk_list(
    conn: Connection, live: Live, now: datetime, *, limit: int, offset: int = 0,
    as_of: datetime | None = None, count: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """The at-risk customers a team can work, the relationships with the most to lose first
    (highest pulse; an index scan on the key): `total`, and `items` with their reasons. Now,
    or as of `as_of` when no event counts after it. `count=False` leaves `total` out (a scan
    of every customer, where the page itself is an index scan)."""
    now = list_moment(conn, live.pulse, now=now, as_of=as_of)
    b = edges(live, now)
    at_risk = and_(c.merged_into_id.is_(None), band_sql(b, "at-risk"))
    total = conn.execute(select(func.count()).where(at_risk)).scalar_one() if count else None
    rows = conn.execute(
        select(c.id, c.name, c.stage, c.pulse_key, c.last_return_at, c.created_at,
               c.open_negatives, c.detractor)
        .where(at_risk).order_by(c.pulse_key.desc(), c.id).limit(limit).offset(offset)
    )  # fmt: skip
    law = model(live.pulse)
    items = [{
        "customer_id": r.id, "name": r.name, "stage": r.stage, "band": "at-risk",
        "pulse": law.pulse(r.pulse_key, now), "last_return_at": r.last_return_at,
        "open_negatives": r.open_negatives, "detractor": bool(r.detractor),
        "reasons": reasons(b, key=r.pulse_key, last_return_at=r.last_return_at,
                           created_at=r.created_at, open_negatives=r.open_negatives,
                           detractor=bool(r.detractor)),
    } for r in rows]  # fmt: skip
    return {"as_of": now, "total": total, "limit": limit, "offset": offset, "items": items}


_TOPS: dict[tuple[str, int], tuple[float, float | None]] = {}
TOP_SECONDS = 60.0  # how long the ingest's rules reuse thriving's edge


def recent_bounds(conn: Connection, live: Live, now: datetime) -> Bounds:
    """`bounds`, with thriving's edge reused for a minute per database and settings (the
    rules in the ingest read bands per batch; a quantile of the base moves slowly)."""
    key = (conn.engine.url.render_as_string(hide_password=True), id(live))
    found = _TOPS.get(key)
    clock = time.monotonic()
    if found is not None and clock - found[0] < TOP_SECONDS:
        return edges(live, now, found[1])
    fresh = bounds(conn, live, now)
    if len(_TOPS) > 64:
        _TOPS.clear()
    _TOPS[key] = (clock, fresh.top_key)
    return fresh

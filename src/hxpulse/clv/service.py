"""Lifetime value: fit BG/NBD and Gamma-Gamma on the purchase events, store every customer's
value, read one customer's.

A purchase is an event whose type the pulse settings read as `purchase` (its aliases
included); its value is `events.value` (none counts 0). Purchases on one UTC day are one
purchase (Fader, Hardie and Lee's day resolution), recency and age are in weeks, and the
calibration ends at the end of `calibration_end` (default: today). The models and every
customer's row are written in one transaction, so readers see the last fit until the next one
commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Engine, Table, delete, insert, select

from hxpulse.analytics import clv
from hxpulse.clv.models import CustomerValue
from hxpulse.config import PulseSettings
from hxpulse.customers.service import customers_t
from hxpulse.db.engine import run_write
from hxpulse.errors import Invalid, NotEnoughData
from hxpulse.events.service import events_t
from hxpulse.learn import store

values_t = cast(Table, CustomerValue.__table__)
MODEL = "clv"
MONTHS = 12  # the horizon of the stored expected purchases and CLV
INSERT_CHUNK = 5000


def purchases(
    conn: Connection, pulse: PulseSettings, *, end: date
) -> list[tuple[int, date, float]]:
    """(customer id, UTC day, value) of every purchase of a live customer up to the end of
    `end`, oldest first."""
    e, c = events_t.c, customers_t.c
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    rows = conn.execute(
        select(e.customer_id, e.occurred_at, e.value)
        .join(customers_t, c.id == e.customer_id)
        .where(e.type.in_(pulse.names_of(["purchase"])), e.occurred_at < until,
               c.merged_into_id.is_(None))
    )  # fmt: skip
    found = []
    for customer_id, moment, value in rows:
        day = moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
        found.append((int(customer_id), day, float(value or 0.0)))
    return found


def fit(
    conn: Connection,
    pulse: PulseSettings,
    *,
    now: datetime,
    calibration_end: date | None = None,
    monthly_discount: float = 0.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fit both models on the purchases up to `calibration_end` (default: today) and replace
    every customer's stored value and the stored model (inside the caller's write
    transaction). Returns the model's meta: the parameters, log-likelihoods and counts."""
    end = calibration_end or now.astimezone(UTC).date()
    if end > now.astimezone(UTC).date():
        raise Invalid(
            f"calibration_end: {end.isoformat()} is after today",
            errors=[{"field": "calibration_end", "message": "must not be in the future"}],
        )
    say = progress or (lambda _text: None)
    say("reading purchases")
    summary = clv.summarise(purchases(conn, pulse, end=end), end)
    repeat = int((summary.x > 0).sum())
    valued = int(((summary.x > 0) & (summary.zbar > 0)).sum())
    if repeat == 0 or valued == 0:
        raise NotEnoughData(
            f"not enough purchases to fit lifetime value up to {end.isoformat()}:"
            f" {len(summary.keys)} customers bought, {repeat} bought again"
            f" ({valued} with a value); a fit needs repeat buyers with a purchase value",
            errors=[{"field": "calibration_end", "message": "no repeat buyers before it"}],
        )
    say(f"fitting BG/NBD on {len(summary.keys):,} customers")
    bg = clv.bgnbd_fit(summary.x, summary.t_x, summary.T)
    say(f"fitting Gamma-Gamma on {valued:,} repeat buyers")
    gg = clv.gamma_gamma_fit(summary.x, summary.zbar)
    if gg.q <= 1:
        raise Invalid(f"the spend per purchase is too spread out to fit (q = {gg.q:.3f} <= 1)")
    rows = _rows(summary, bg, gg, monthly_discount=monthly_discount, now=now)
    meta: dict[str, Any] = {
        "r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b,
        "p": gg.p, "q": gg.q, "gamma": gg.gamma,
        "log_likelihood": bg.log_likelihood,
        "gamma_gamma_log_likelihood": gg.log_likelihood,
        "calibration_end": end.isoformat(), "months": MONTHS,
        "monthly_discount": monthly_discount,
        "customers": len(summary.keys), "repeat_buyers": repeat, "spend_buyers": valued,
    }  # fmt: skip
    say(f"storing {len(rows):,} customers' values")
    conn.execute(delete(values_t))
    for start in range(0, len(rows), INSERT_CHUNK):
        conn.execute(insert(values_t), rows[start : start + INSERT_CHUNK])
    store.save(conn, MODEL, meta=meta, data=None, now=now)
    return meta


def _rows(
    s: clv.Summary, bg: clv.BgNbd, gg: clv.GammaGamma, *, monthly_discount: float, now: datetime
) -> list[dict[str, Any]]:
    horizon = MONTHS * clv.WEEKS_PER_MONTH
    expected = clv.expected_purchases(bg, horizon, s.x, s.t_x, s.T)
    alive = clv.p_alive(bg, s.x, s.t_x, s.T)
    spend = clv.expected_spend(gg, s.x, s.zbar)
    value = clv.lifetime_value(bg, gg, s.x, s.t_x, s.T, s.zbar, months=MONTHS,
                               monthly_discount=monthly_discount)  # fmt: skip
    return [
        {"customer_id": int(k), "expected_purchases": float(expected[n]),
         "p_alive": float(alive[n]), "expected_spend": float(spend[n]),
         "clv": float(value[n]),
         "first_purchase": float(s.first_value[n]) if np.isfinite(s.first_value[n]) else None,
         "fitted_at": now}
        for n, k in enumerate(s.keys)
    ]  # fmt: skip


def fit_and_store(
    engine: Engine,
    pulse: PulseSettings,
    *,
    now: datetime,
    calibration_end: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """`fit` in one write transaction of its own."""
    return run_write(
        engine,
        lambda conn: fit(conn, pulse, now=now, calibration_end=calibration_end,
                         progress=progress),
    )  # fmt: skip


def model(conn: Connection) -> dict[str, Any] | None:
    """The last fit: its parameters and counts with `fitted_at`, or None before the first."""
    found = store.load(conn, MODEL, with_data=False)
    return None if found is None else {**found.meta, "fitted_at": found.fitted_at}


def customer_value(conn: Connection, *, customer_id: int) -> dict[str, Any]:
    """One customer's stored value: expected purchases in the next 12 months, P(alive),
    expected spend per purchase, CLV, CLV ÷ first purchase; `fitted: false` and no figures
    when the last fit did not include them (or there was none)."""
    v = values_t.c
    row = conn.execute(select(values_t).where(v.customer_id == customer_id)).first()
    fitted = model(conn)
    base: dict[str, Any] = {
        "customer_id": customer_id,
        "fitted": row is not None,
        "fitted_at": fitted["fitted_at"] if fitted else None,
        "calibration_end": fitted["calibration_end"] if fitted else None,
        "months": MONTHS,
    }
    if row is None:
        return base | dict.fromkeys(_FIGURES)
    first = row.first_purchase
    return base | {
        "expected_purchases": row.expected_purchases,
        "p_alive": row.p_alive,
        "expected_spend": row.expected_spend,
        "clv": row.clv,
        "first_purchase": first,
        "clv_per_first_purchase": row.clv / first if first and first > 0 else None,
    }


_FIGURES = ("expected_purchases", "p_alive", "expected_spend", "clv", "first_purchase",
            "clv_per_first_purchase")  # fmt: skip


def erase(conn: Connection, customer_ids: list[int]) -> int:
    """Delete the stored values of these customers (erasure); return how many rows went."""
    if not customer_ids:
        return 0
    gone = conn.execute(delete(values_t).where(values_t.c.customer_id.in_(customer_ids)))
    return int(gone.rowcount or 0)


def export(conn: Connection, customer_ids: list[int]) -> list[dict[str, Any]]:
    """The stored value rows of these customers, for a data export."""
    v = values_t.c
    rows = conn.execute(select(values_t).where(v.customer_id.in_(customer_ids))
                        .order_by(v.customer_id))  # fmt: skip
    return [dict(r._mapping) for r in rows]

"""The bands against what customers did next, on the real CDNOW purchase history.

Run: `.venv/bin/python bench/bands.py`.

The CDNOW master file (23,570 customers who first bought in the first quarter of 1997, shipped
in the `lifetimes` package) is cut at the end of 1997-09-30, as Fader, Hardie and Lee (2005)
cut it: the purchases up to then are ingested (live pulse, stages, bands) and each customer's
band and pulse are read at that moment; the next 39 weeks are the holdout. For each band: how
many customers it holds and the share who buy again in the holdout, against the base rate (all
customers). Then the ROC AUC for "buys again" of the pulse, against the baseline of BG/NBD's
expected purchases in the holdout (`hxpulse.analytics.clv`, fitted on the same calibration data:
the published likelihood, recency and age in weeks).

Targets: the bands are ordered (thriving > steady > at-risk > lapsed in the share who buy
again) and well apart (at least 10 points between neighbours); the pulse's AUC at least BG/NBD's
minus 0.01.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sklearn.metrics import roc_auc_score
from sqlalchemy import select

from hxpulse.analytics import clv
from hxpulse.config import Live, Settings
from hxpulse.customers.service import customers_t, identities_t
from hxpulse.db.engine import make_engine
from hxpulse.db.migrate import upgrade
from hxpulse.demo.cdnow import read_purchases
from hxpulse.events.schemas import EventIn
from hxpulse.ingest import ingest
from hxpulse.pulse import bands
from hxpulse.pulse.service import model

CALIBRATION_END = datetime(1997, 10, 1, tzinfo=UTC)  # the end of 1997-09-30
HOLDOUT_END = CALIBRATION_END + timedelta(weeks=39)
ORDER = ("thriving", "steady", "at-risk", "lapsed")
GAP, AUC_SLACK = 0.10, 0.01
BATCH = 5000


def main() -> int:
    purchases = read_purchases()
    days: dict[str, set[date]] = defaultdict(set)
    again: set[str] = set()
    events: list[EventIn] = []
    for p in purchases:
        moment = datetime(p.day.year, p.day.month, p.day.day, 12, tzinfo=UTC)
        if moment < CALIBRATION_END:
            days[p.customer].add(p.day)
            events.append(EventIn(message_id=f"cdnow-{p.line}", kind="track", type="purchase",
                                  occurred_at=moment, identities=[("user_id", p.customer)],
                                  value=p.amount, channel="web", source="import"))  # fmt: skip
        elif moment < HOLDOUT_END:
            again.add(p.customer)
    events.sort(key=lambda e: e.occurred_at)
    live = Live()
    with tempfile.TemporaryDirectory(prefix="hxbench-bands-") as folder:
        engine = make_engine(Settings(database_url=f"sqlite:///{folder}/bands.db"))
        upgrade(engine)
        started = time.perf_counter()
        for start in range(0, len(events), BATCH):
            ingest(engine, events[start : start + BATCH], now=CALIBRATION_END, live=live)
        loaded = time.perf_counter() - started
        c, i = customers_t.c, identities_t.c
        law = model(live.pulse)
        with engine.connect() as conn:
            edges = bands.bounds(conn, live, CALIBRATION_END)
            rows = conn.execute(select(i.value, c.stage, c.pulse_key, c.last_return_at,
                                       c.created_at, c.open_negatives, c.detractor)
                                .join(customers_t, c.id == i.customer_id)
                                .where(i.kind == "user_id"))  # fmt: skip
            read = {r.value: (bands.classify(edges, stage=r.stage, key=r.pulse_key,
                                             last_return_at=r.last_return_at,
                                             created_at=r.created_at,
                                             open_negatives=r.open_negatives,
                                             detractor=bool(r.detractor)),
                              law.pulse(r.pulse_key, CALIBRATION_END)) for r in rows}  # fmt: skip
        engine.dispose()
    people = sorted(days)
    bought = np.array([p in again for p in people], dtype=float)
    print(f"HX Pulse bands on CDNOW: {len(people):,} customers, {len(events):,} purchases to"
          f" the end of 1997-09-30 (ingested in {loaded:.1f} s), 39 weeks of holdout")  # fmt: skip
    base = bought.mean()
    print(f"{'band':<10}{'customers':>11}{'buy again':>11}  against the base rate {base:.1%}")
    shares = []
    for name in ORDER:
        members = [n for n, p in enumerate(people) if read[p][0] == name]
        share = float(bought[members].mean()) if members else float("nan")
        shares.append(share)
        print(f"{name:<10}{len(members):>11,}{share:>11.1%}  {share / base:.2f} x base")
    others = sum(1 for p in people if read[p][0] not in ORDER)
    if others:
        print(f"{'other':<10}{others:>11,}")
    last_day = (CALIBRATION_END - timedelta(days=1)).date()
    summary = clv.summarise(((p, d, 0.0) for p, ds in days.items() for d in ds), last_day)
    assert summary.keys == people
    started = time.perf_counter()
    params = clv.bgnbd_fit(summary.x, summary.t_x, summary.T)
    fitted = time.perf_counter() - started
    expected = clv.expected_purchases(params, 39.0, summary.x, summary.t_x, summary.T)
    pulse_auc = roc_auc_score(bought, [read[p][1] for p in people])
    bgnbd_auc = roc_auc_score(bought, expected)
    print(f"BG/NBD fit in {fitted:.1f} s: r {params.r:.3f}, alpha {params.alpha:.3f},"
          f" a {params.a:.3f}, b {params.b:.3f}")  # fmt: skip
    ordered = all(a - b >= GAP for a, b in zip(shares, shares[1:], strict=False))
    kept = pulse_auc >= bgnbd_auc - AUC_SLACK
    verdict = "PASS" if kept else "FAIL"
    print(f"AUC for buying again: pulse {pulse_auc:.3f}, BG/NBD {bgnbd_auc:.3f} (baseline),"
          f" {pulse_auc - bgnbd_auc:+.3f}  {verdict} (>= BG/NBD - {AUC_SLACK})")  # fmt: skip
    print(f"bands ordered, {GAP:.0%} apart: {'PASS' if ordered else 'FAIL'}")
    return 0 if ordered and kept else 1


if __name__ == "__main__":
    sys.exit(main())

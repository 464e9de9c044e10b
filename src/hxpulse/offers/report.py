"""The offers report: per offer and overall, offers shown, acceptance and revenue per offer
shown, the model's arm against the holdout, each with a 95% interval, and the uplift.

Acceptance is a Wilson interval, the uplift in acceptance Newcombe's interval of the difference;
revenue per offer shown (revenue counts on acceptance, 0 otherwise) a normal interval of the
mean and the uplift Welch's. An exposure unanswered after `offers_ignored_after_hours` counts as
ignored; a younger one as pending (it is still shown: rates are per offer shown).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, case, func, select

from hxpulse.config import Settings
from hxpulse.offers import maths
from hxpulse.offers.models import Exposure, Offer

exposures_t = cast(Table, Exposure.__table__)
offers_t = cast(Table, Offer.__table__)
ARMS = ("model", "holdout")
COUNTS = ("shown", "accepted", "declined", "ignored", "cost")


def _interval(i: maths.Interval) -> dict[str, float | None]:
    return asdict(i)


def _arm(n: dict[str, float]) -> dict[str, Any]:
    shown, accepted = int(n["shown"]), int(n["accepted"])
    moments = maths.Moments(shown, n["revenue"], n["squares"])
    return {"shown": shown, "accepted": accepted, "declined": int(n["declined"]),
            "ignored": int(n["ignored"]),
            "pending": shown - accepted - int(n["declined"]) - int(n["ignored"]),
            "revenue": round(n["revenue"], 2),
            "acceptance": _interval(maths.wilson(accepted, shown)),
            "revenue_per_shown": _interval(maths.mean_interval(moments)),
            "net_per_shown": (None if not shown
                              else round((n["revenue"] - n["cost"]) / shown, 4))}  # fmt: skip


def _uplift(model: dict[str, float], holdout: dict[str, float]) -> dict[str, Any]:
    a = (int(model["accepted"]), int(model["shown"]))
    b = (int(holdout["accepted"]), int(holdout["shown"]))
    ma = maths.Moments(a[1], model["revenue"], model["squares"])
    mb = maths.Moments(b[1], holdout["revenue"], holdout["squares"])
    rate_a = a[0] / a[1] if a[1] else None
    rate_b = b[0] / b[1] if b[1] else None
    relative = rate_a / rate_b - 1 if rate_a is not None and rate_b else None
    return {"acceptance": _interval(maths.rate_difference(a, b)),
            "acceptance_relative": relative,
            "revenue_per_shown": _interval(maths.mean_difference(ma, mb))}  # fmt: skip


def _empty() -> dict[str, float]:
    return {k: 0.0 for k in (*COUNTS, "revenue", "squares")}


def report(conn: Connection, settings: Settings, *, now: datetime) -> dict[str, Any]:
    """The report (module doc): `offers` (each with `model`, `holdout`, `uplift`) and
    `overall`."""
    x, o = exposures_t.c, offers_t.c
    cutoff = now - timedelta(hours=settings.offers_ignored_after_hours)
    revenue = func.coalesce(x.revenue, 0.0)
    accepted = x.response == "accepted"
    rows = conn.execute(select(
        x.offer_id, x.arm, func.count().label("shown"),
        func.sum(case((accepted, 1), else_=0)).label("accepted"),
        func.sum(case((x.response == "declined", 1), else_=0)).label("declined"),
        func.sum(case((and_(x.response.is_(None), x.shown_at < cutoff), 1), else_=0))
        .label("ignored"),
        func.sum(revenue).label("revenue"), func.sum(revenue * revenue).label("squares"),
        func.sum(case((accepted, o.cost), else_=0.0)).label("cost"),
    ).join(offers_t, o.id == x.offer_id).group_by(x.offer_id, x.arm)).all()  # fmt: skip
    sums: dict[int, dict[str, dict[str, float]]] = {}
    overall = {arm: _empty() for arm in ARMS}
    for r in rows:
        if r.arm not in ARMS:
            continue
        mine = sums.setdefault(int(r.offer_id), {arm: _empty() for arm in ARMS})[r.arm]
        for k in (*COUNTS, "revenue", "squares"):
            value = float(getattr(r, k) or 0)
            mine[k] += value
            overall[r.arm][k] += value
    offers = []
    for row in conn.execute(select(o.id, o.key, o.name, o.kind, o.active).order_by(o.id)):
        arms = sums.get(int(row.id), {arm: _empty() for arm in ARMS})
        offers.append({"key": row.key, "name": row.name, "kind": row.kind,
                       "active": bool(row.active),
                       **{arm: _arm(arms[arm]) for arm in ARMS},
                       "uplift": _uplift(arms["model"], arms["holdout"])})  # fmt: skip
    return {"generated_at": now, "holdout_share": settings.offers_holdout,
            "ignored_after_hours": settings.offers_ignored_after_hours,
            "overall": {**{arm: _arm(overall[arm]) for arm in ARMS},
                        "uplift": _uplift(overall["model"], overall["holdout"])},
            "offers": offers}  # fmt: skip

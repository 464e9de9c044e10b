"""The home dashboard's figures, each tile read from its own domain's service, with the link to
the page that shows the same figures in full.

Windows: the last 90 days, today included (NPS, the journey's conversions, the SLA, advocacy:
`advocacy.service.summary`'s own 90 days); 7 days for the movers; the latest detractor whys
whenever they came. The at-risk tile is read in one function, `at_risk_tile`, so that the
at-risk definition can be swapped in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import Connection, Table, func, select

from hxpulse.advocacy import service as advocacy
from hxpulse.cases import report as cases
from hxpulse.config import Live, PulseSettings, Settings
from hxpulse.customers.service import customers_t
from hxpulse.events import moments
from hxpulse.events.models import Event
from hxpulse.journey import funnel, overlays
from hxpulse.pulse import service as pulse
from hxpulse.surveys import report as surveys

events_t = cast(Table, Event.__table__)
WINDOW_DAYS = 90
MOVER_DAYS = 7
MOVERS = 5  # rises and falls each
WHYS = 5
VALUE_DAYS = 365  # the value at risk: purchases over this many days
AT_RISK_CAPTION = (
    "Customers with an open complaint, a detractor's answer, a pulse below zero or no return"
    f" for a half-life. Value at risk: their purchase revenue over the last {VALUE_DAYS} days."
)


@dataclass(frozen=True, slots=True)
class Window:
    """UTC days from `since` to `until`, both included."""

    since: date
    until: date

    def start(self) -> datetime:
        return moments.start_of(self.since)

    def end(self) -> datetime:
        """The first moment after the window."""
        return moments.start_of(self.until + timedelta(days=1))


def window(now: datetime, days: int = WINDOW_DAYS) -> Window:
    """The `days` UTC days up to today (now's day), today included."""
    until = (now.astimezone(UTC) if now.tzinfo else now).date()
    return Window(until - timedelta(days=days - 1), until)


def dashboard(conn: Connection, settings: Settings, *, now: datetime) -> dict[str, Any]:
    """Every tile of the home dashboard as of `now` (see `hxpulse.dashboard.schemas`)."""
    days = window(now)
    return {
        "as_of": now,
        "window_days": WINDOW_DAYS,
        "nps": nps_tile(conn, settings.live, days, now),
        "journey": journey_tile(conn, settings.live, days, now),
        "at_risk": at_risk_tile(conn, settings.live, now),
        "cases": cases_tile(conn, days, now),
        "advocacy": advocacy_tile(conn, settings, now),
        "movers": movers_tile(conn, settings.pulse, now),
        "detractor_whys": whys_tile(conn),
    }


def nps_tile(conn: Connection, live: Live, days: Window, now: datetime) -> dict[str, Any]:
    """NPS over the window with its 95 % margin, per week, and against the window before."""
    got = surveys.report(conn, live, kind="nps", period="week", since=days.since,
                         until=days.until, now=now)  # fmt: skip
    before_until = days.since - timedelta(days=1)
    before = surveys.report(conn, live, kind="nps", since=before_until - timedelta(
        days=WINDOW_DAYS - 1), until=before_until, now=now)["overall"]  # fmt: skip
    overall = got["overall"]
    change = None
    if overall["nps"] is not None and before["nps"] is not None:
        change = overall["nps"] - before["nps"]
    query = urlencode({"since": days.since.isoformat(), "until": days.until.isoformat(),
                       "period": "week"})  # fmt: skip
    return {
        "since": days.since, "until": days.until,
        **{key: overall[key] for key in ("n", "promoters", "passives", "detractors", "nps",
                                         "margin_of_error", "too_small")},
        "previous": before["nps"], "change": change,
        "trend": [{"period": g["period"], "nps": g["nps"], "n": g["n"]} for g in got["groups"]],
        "link": f"/nps?{query}",
    }  # fmt: skip


def journey_tile(conn: Connection, live: Live, days: Window, now: datetime) -> dict[str, Any]:
    """Live customers per stage now, and each stage's conversion over the window (the
    journey funnel's, for the same days)."""
    got = funnel.funnel(conn, live, start=days.start(), end=days.end(), now=now)
    stages = [{key: s[key] for key in ("stage", "label", "current", "conversion")}
              for s in got["stages"]]  # fmt: skip
    query = urlencode({"start": days.since.isoformat(), "end": days.until.isoformat()})
    return {"since": days.since, "until": days.until, "customers": got["now"]["customers"],
            "stages": stages, "link": f"/journey?{query}"}  # fmt: skip


def at_risk_tile(conn: Connection, live: Live, now: datetime) -> dict[str, Any]:
    """How many live customers are at risk now (the at-risk band, `pulse.bands`), how many
    lapsed, and the value at risk: the at-risk customers' purchase revenue over the
    `VALUE_DAYS` days before `now`. The dashboard's one reading of the bands."""
    c, e = customers_t.c, events_t.c
    risky = select(c.id).where(c.merged_into_id.is_(None), overlays.at_risk(live, now))
    lapsed = conn.execute(select(func.count()).where(
        c.merged_into_id.is_(None), overlays.lapsed(live, now))).scalar_one()  # fmt: skip
    count = conn.execute(select(func.count()).select_from(risky.subquery())).scalar_one()
    value = conn.execute(
        select(func.coalesce(func.sum(e.value), 0.0))
        .where(e.type.in_(live.pulse.names_of(["purchase"])),
               e.occurred_at > now - timedelta(days=VALUE_DAYS), e.occurred_at <= now,
               e.customer_id.in_(risky))
    ).scalar_one()  # fmt: skip
    return {"count": int(count), "value": float(value), "value_days": VALUE_DAYS,
            "lapsed": int(lapsed), "caption": AT_RISK_CAPTION,
            "link": "/pulse/at-risk"}  # fmt: skip


def cases_tile(conn: Connection, days: Window, now: datetime) -> dict[str, Any]:
    """Cases open now and how many of them are late; the SLA targets of the cases opened in
    the window: decided, met, missed, the share met."""
    sla = cases.totals(cases.sla_report(conn, now=now, since=days.start()))
    return {**cases.open_cases(conn, now=now), "since": days.since, **sla,
            "link": "/cases?tab=all",
            "sla_link": f"/cases/sla?since={days.since.isoformat()}"}  # fmt: skip


def advocacy_tile(conn: Connection, settings: Settings, now: datetime) -> dict[str, Any]:
    """Promoters of the last 90 days, how many were asked for a referral, the ask rate and
    the referrals attributed (`advocacy.service.summary`)."""
    got = advocacy.summary(conn, settings, now)
    since = (now - timedelta(days=WINDOW_DAYS)).date()
    query = urlencode({"since": since.isoformat(), "until": now.date().isoformat()})
    return {key: got[key] for key in ("promoters", "asked", "ask_rate", "referrals")} | {
        "since": since, "link": f"/advocacy?{query}"}  # fmt: skip


def movers_tile(conn: Connection, settings: PulseSettings, now: datetime) -> dict[str, Any]:
    """The customers whose pulse rose and fell most over the last `MOVER_DAYS` days."""
    got = pulse.movers(conn, settings, now, days=MOVER_DAYS, limit=MOVERS)

    def item(m: dict[str, Any]) -> dict[str, Any]:
        return {"customer_id": m["customer_id"], "name": m["name"], "pulse": m["pulse"],
                "change": m["change"], "link": f"/customers/{m['customer_id']}"}  # fmt: skip

    return {"days": MOVER_DAYS, "rises": [item(m) for m in got["rises"]],
            "falls": [item(m) for m in got["falls"]], "link": "/pulse#h-rises"}  # fmt: skip


def whys_tile(conn: Connection) -> dict[str, Any]:
    """The latest NPS detractors' answers with a why, with the customer's name."""
    answers = surveys.latest_answers(conn, limit=WHYS, kind="nps", band="detractor")
    ids = sorted({int(a["customer_id"]) for a in answers})
    c = customers_t.c
    names: dict[int, str | None] = {}
    if ids:
        names = {int(i): n for i, n in conn.execute(select(c.id, c.name).where(c.id.in_(ids)))}
    items = [{"response_id": a["id"], "customer_id": a["customer_id"],
              "name": names.get(a["customer_id"]), "score": a["score"], "why": a["why"],
              "answered_at": a["answered_at"], "survey": a["survey"],
              "link": f"/customers/{a['customer_id']}"} for a in answers]  # fmt: skip
    return {"items": items, "link": "/nps#h-latest"}

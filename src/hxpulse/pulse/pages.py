"""HTML for the pulse: the panel on the customer page, and the Pulse page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection
from starlette.responses import Response

from hxpulse.config import Settings
from hxpulse.deps import ConnDep, PulseRead, SettingsDep
from hxpulse.pulse import bands as band_service
from hxpulse.pulse import service
from hxpulse.web.render import page

router = APIRouter()
BAND_NOTES = {
    "thriving": "the top {share} of healthy customers by pulse",
    "steady": "healthy customers: returning, nothing open",
    "at-risk": "an open complaint, a detractor, a pulse below zero, or no return for {fall} days",
    "lapsed": "customers with no return for {lapsed} days",
    "warm": "prospects and leads seen in the last {fall} days",
    "cold": "prospects and leads not seen for {fall} days",
}
PAGE_SIZE = 50


def customer_panel(
    conn: Connection, settings: Settings, customer_id: int, now: datetime
) -> dict[str, Any]:
    """What the customer page shows of the pulse: now, its parts, and the curve (one year)."""
    explained = service.explain(conn, settings.live, customer_id=customer_id, now=now, top=5)
    curve = service.history(conn, settings.pulse, customer_id=customer_id,
                            start=now - timedelta(days=365), end=now, points=120)  # fmt: skip
    explained["curve"] = {
        "at": [p["at"].isoformat() for p in curve],
        **{k: [round(p[k], 3) for p in curve] for k in ("pulse", "investments", "returns")},
    }
    return explained


@router.get("/pulse")
def pulse_page(
    request: Request, conn: ConnDep, settings: SettingsDep, _actor: PulseRead
) -> Response:
    now = datetime.now(UTC)
    counts = band_service.counts(conn, settings.live, now)
    spread = service.distribution(conn, settings.pulse, now)
    edges = spread["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
    customers = sum(counts[name] for name in ("thriving", "steady", "at-risk", "lapsed"))
    return page(
        request, "pulse.html", bands=counts, notes=band_notes(settings), customers=customers,
        early=counts["warm"] + counts["cold"],
        spread={"centres": [round(c, 2) for c in centres], "counts": spread["counts"],
                "colours": ["#1e88e5"] * len(centres)},
        movers=service.movers(conn, settings.pulse, now, days=7, limit=10),
        at_risk=band_service.at_risk_list(conn, settings.live, now, limit=10), now=now,
    )  # fmt: skip


@router.get("/pulse/at-risk")
def at_risk_page(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: PulseRead,
    page_no: int = Query(1, ge=1, le=100_000, alias="page"),
) -> Response:
    """The at-risk list a team works: every at-risk customer with why, most to lose first."""
    now = datetime.now(UTC)
    found = band_service.at_risk_list(conn, settings.live, now, limit=PAGE_SIZE,
                                      offset=(page_no - 1) * PAGE_SIZE)  # fmt: skip
    return page(request, "at_risk.html", found=found, page_no=page_no, size=PAGE_SIZE,
                note=band_notes(settings)["at-risk"], now=now)  # fmt: skip


def band_notes(settings: Settings) -> dict[str, str]:
    """What each band means under these settings, in words."""
    b, days = settings.pulse.bands, settings.pulse.half_life_days
    values = {"share": f"{b.thriving_share:.0%}", "fall": f"{b.fall * days:g}",
              "lapsed": f"{b.lapsed * days:g}"}  # fmt: skip
    return {name: text.format(**values) for name, text in BAND_NOTES.items()}

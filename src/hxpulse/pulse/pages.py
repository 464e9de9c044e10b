"""HTML for the pulse: the panel on the customer page, and the Pulse page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.responses import Response

from hxpulse.analytics.pulse import band
from hxpulse.config import Settings
from hxpulse.deps import ConnDep, PulseRead, SettingsDep
from hxpulse.pulse import service
from hxpulse.web.render import page

router = APIRouter()
BAND_COLOURS = {"thriving": "#2e7d32", "steady": "#1e88e5", "cooling": "#f9a825",
                "at-risk": "#c62828"}  # fmt: skip


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
    bands = service.bands(conn, settings.pulse, now)
    spread = service.distribution(conn, settings.pulse, now)
    edges = spread["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
    colours = [BAND_COLOURS.get(band(c, settings.pulse.bands), "#757575") for c in centres]
    return page(
        request, "pulse.html", bands=bands, total=sum(bands.values()),
        spread={"centres": [round(c, 2) for c in centres], "counts": spread["counts"],
                "colours": colours},
        movers=service.movers(conn, settings.pulse, now, days=7, limit=10),
        at_risk=service.at_risk(conn, settings.pulse, limit=25, now=now), now=now,
    )  # fmt: skip

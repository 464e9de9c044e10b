"""JSON route for the home dashboard: the twin of the page `/`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hxpulse import deps
from hxpulse.dashboard import service
from hxpulse.dashboard.schemas import Dashboard
from hxpulse.deps import ConnDep, DashboardRead, SettingsDep

router = APIRouter(prefix="/api", tags=["dashboard"])


@router.get("/dashboard", response_model=Dashboard)
def dashboard(
    request: Request, conn: ConnDep, settings: SettingsDep, _actor: DashboardRead
) -> dict[str, Any]:
    """The home dashboard's figures: NPS with its margin and trend, customers per stage and
    the conversions, at-risk customers and the value at risk, open cases and the SLA,
    the advocacy ask rate, the week's biggest movers and the latest detractor whys; each
    tile with the link to its page."""
    return service.dashboard(conn, settings, now=deps.now(request))

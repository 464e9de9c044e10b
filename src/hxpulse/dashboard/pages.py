"""HTML for the home dashboard: `/`, the page a CX lead opens first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hxpulse import deps
from hxpulse.dashboard import service
from hxpulse.deps import ConnDep, LoginRequired, SettingsDep
from hxpulse.web.render import page

router = APIRouter()
ELSEWHERE = "/customers"  # home for a person without `dashboard:read` (agents)


@router.get("/")
def home(request: Request, conn: ConnDep, settings: SettingsDep) -> Response:
    """The dashboard for those who may read it; anyone else signed in goes to the customers."""
    actor = deps.actor_of(request)
    if actor is None:
        raise LoginRequired("sign in to see the dashboard")
    if not actor.can("dashboard:read"):
        return RedirectResponse(ELSEWHERE, status_code=303)
    figures = service.dashboard(conn, settings, now=deps.now(request))
    return page(request, "dashboard.html", d=figures, sparkline=sparkline(figures["nps"]["trend"]))


def sparkline(trend: list[dict[str, object]], width: int = 120, height: int = 32) -> str:
    """The SVG polyline points of the weekly NPS (−100..100 drawn top to bottom), or ''."""
    values = [(i, p["nps"]) for i, p in enumerate(trend) if isinstance(p["nps"], int | float)]
    if len(values) < 2:
        return ""
    step = width / max(len(trend) - 1, 1)
    return " ".join(f"{i * step:.1f},{height * (100 - float(v)) / 200:.1f}" for i, v in values)

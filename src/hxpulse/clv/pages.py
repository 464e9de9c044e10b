"""HTML for lifetime value: the Value page, and the customer page's panel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.responses import Response

from hxpulse import deps
from hxpulse.clv import report, service
from hxpulse.deps import ConnDep, SettingsDep, ValueRead
from hxpulse.web.render import page

router = APIRouter()


@router.get("/value")
def value_page(
    request: Request, conn: ConnDep, settings: SettingsDep, _actor: ValueRead
) -> Response:
    found = report.report(conn, settings.live, deps.now(request), limit=20)
    return page(request, "value.html", report=found, chart=chart(found["histogram"]))


def chart(histogram: dict[str, Any]) -> dict[str, Any]:
    """The histogram as Plotly bars: one label and one count per bin."""
    edges, counts = histogram["edges"], histogram["counts"]
    labels = [f"{edges[k]:,.0f}–{edges[k + 1]:,.0f}" for k in range(len(counts))]
    if labels:
        labels[-1] = f"{edges[-2]:,.0f}+ (top 1%)"
    return {"labels": labels, "counts": counts}


def customer_panel(conn: Connection, customer_id: int) -> dict[str, Any]:
    """The customer page's Value card: CLV, P(alive), CLV ÷ first purchase."""
    return service.customer_value(conn, customer_id=customer_id)

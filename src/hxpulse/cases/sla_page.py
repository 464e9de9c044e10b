"""The SLA report page `/cases/sla`: the twin of `GET /api/cases/sla` for people (included
before the case pages, whose `/cases/{case_id}` would take `sla` for an id)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hxpulse import deps
from hxpulse.cases import report
from hxpulse.deps import CasesRead, EngineDep
from hxpulse.errors import Invalid
from hxpulse.events import moments
from hxpulse.web.render import page

router = APIRouter()
BY = ("team", "owner")


@router.get("/cases/sla")
def sla_page(
    request: Request,
    engine: EngineDep,
    _actor: CasesRead,
    since: str = Query("", max_length=20),
    by: str = Query("team", max_length=10),
) -> Response:
    form = {"since": since.strip(), "by": by.strip() or "team"}
    context: dict[str, Any] = {"form": form, "rows": [], "totals": None, "errors": []}
    try:
        day = moments.parse_day(form["since"], "since")
    except Invalid as exc:
        context["errors"] += exc.errors
    if form["by"] not in BY:
        context["errors"].append({"field": "by", "message": f"must be one of {', '.join(BY)}"})
    if context["errors"]:
        return page(request, "sla.html", status_code=400, **context)
    with engine.connect() as conn:
        rows = report.sla_report(conn, now=deps.now(request),
                                 since=moments.start_of(day) if day else None,
                                 by_owner=form["by"] == "owner")  # fmt: skip
    context.update(rows=rows, totals=report.totals(rows))
    return page(request, "sla.html", **context)

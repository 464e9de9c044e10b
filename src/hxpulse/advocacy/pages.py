"""HTML for advocacy: the Advocacy page (the report, with its filters)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hxpulse.advocacy import report
from hxpulse.deps import AdvocacyRead, ConnDep, SettingsDep
from hxpulse.errors import Invalid
from hxpulse.events.models import CHANNELS
from hxpulse.web.render import page

router = APIRouter()


@router.get("/advocacy")
def advocacy_page(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: AdvocacyRead,
    since: str | None = Query(None, max_length=40),
    until: str | None = Query(None, max_length=40),
    channel: str | None = Query(None, max_length=20),
    department: str | None = Query(None, max_length=100),
) -> Response:
    form = {"since": since or "", "until": until or "", "channel": channel or "",
            "department": department or ""}  # fmt: skip
    context: dict[str, Any] = {"form": form, "channels": CHANNELS, "report": None, "errors": []}
    try:
        filters = report.query(since, until, channel, department)
    except Invalid as exc:
        context["errors"] = exc.errors
        return page(request, "advocacy.html", status_code=400, **context)
    context["report"] = report.report(conn, settings, filters)
    return page(request, "advocacy.html", **context)

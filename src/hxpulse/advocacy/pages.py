"""HTML for advocacy: the Advocacy page (the report, with its filters)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection
from starlette.responses import Response

from hxpulse.advocacy import report, service
from hxpulse.customers import queries
from hxpulse.db.engine import run_write
from hxpulse.deps import AdvocacyAsk, AdvocacyRead, ConnDep, EngineDep, SettingsDep
from hxpulse.errors import Invalid
from hxpulse.events.models import CHANNELS
from hxpulse.web import csrf
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


@router.post("/customers/{customer_id}/asks")
def ask_customer(
    request: Request,
    customer_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    engine: EngineDep,
    settings: SettingsDep,
    actor: AdvocacyAsk,
    channel: Annotated[str, Form(max_length=20)] = "other",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The customer page's "Asked for a referral" button: record the ask, back to the page."""
    csrf.check(request, csrf_token)
    now = datetime.now(UTC)

    def work(conn: Connection) -> None:
        found = queries.find(conn, f"id:{customer_id}")
        service.record_ask(conn, settings, customer_id=found, channel=channel, by=actor.label,
                           now=now)  # fmt: skip

    run_write(engine, work)
    return RedirectResponse(f"/customers/{customer_id}#advocacy", status_code=303)

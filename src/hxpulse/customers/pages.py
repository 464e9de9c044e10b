"""HTML pages for customers: the list with search, and one profile with its timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hxpulse.cases import service as cases
from hxpulse.cases import teams
from hxpulse.customers import queries
from hxpulse.deps import ConnDep, CustomersRead, DbId, SettingsDep
from hxpulse.journey import service as journey
from hxpulse.privacy import service as privacy
from hxpulse.privacy import views as privacy_views
from hxpulse.pulse import pages as pulse_pages
from hxpulse.pulse import service as pulse_service
from hxpulse.rules import service as rules
from hxpulse.web.render import page

router = APIRouter()


@router.get("/customers")
def customer_list(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: CustomersRead,
    q: str = Query("", max_length=320),
    page_no: int = Query(1, ge=1, le=100_000, alias="page"),
) -> Response:
    result = queries.search(conn, q=q, page=page_no, per_page=25)
    pulse_service.with_pulse(conn, result["items"], settings.live, datetime.now(UTC))
    return page(request, "customers.html", result=result)


@router.get("/customers/{customer_id}")
def customer_detail(
    request: Request, customer_id: DbId, conn: ConnDep, settings: SettingsDep, _actor: CustomersRead
) -> Response:
    live = queries.live_id(conn, customer_id)
    if live is not None and live != customer_id:
        return RedirectResponse(f"/customers/{live}", status_code=303)
    profile = queries.profile(conn, customer_id=customer_id, limit=200)
    now = datetime.now(UTC)
    privacy_views.record_view(request, customer_id, via="page")
    return page(request, "customer.html", customer=profile,
                pulse=pulse_pages.customer_panel(conn, settings, customer_id, now),
                stages=journey.history(conn, customer_id),
                firings=rules.firings(conn, customer_id=customer_id, limit=20),
                privacy=privacy.panel(conn, customer_id,
                                      due_days=settings.privacy.erasure_days),
                cases=cases.list_cases(conn, now=now, customer_id=customer_id, limit=50),
                teams=[t["name"] for t in teams.list_teams(conn)])  # fmt: skip

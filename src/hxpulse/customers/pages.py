"""HTML pages for customers: the list (search, stage, sort, pages) and one profile with its
timeline a page at a time and its survey answers."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hxpulse.cases import service as cases
from hxpulse.cases import teams
from hxpulse.clv import pages as clv_pages
from hxpulse.customers import listing, queries, timeline
from hxpulse.deps import ConnDep, CustomersRead, DbId, SettingsDep
from hxpulse.journey import service as journey
from hxpulse.offers import pages as offers_pages
from hxpulse.privacy import service as privacy
from hxpulse.privacy import views as privacy_views
from hxpulse.pulse import pages as pulse_pages
from hxpulse.pulse import service as pulse_service
from hxpulse.rules import service as rules
from hxpulse.web.render import page

router = APIRouter()
SORT_LABELS = {"-created": "newest first", "created": "oldest first", "name": "name, A to Z",
               "-name": "name, Z to A", "pulse": "pulse, lowest first",
               "-pulse": "pulse, highest first", "last_activity": "least recently active",
               "-last_activity": "most recently active"}  # fmt: skip
TIMELINE_LOW, TIMELINE_HIGH = 50, 200  # touchpoints per page of the timeline


@router.get("/customers")
def customer_list(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    _actor: CustomersRead,
    q: str | None = None,
    stage: str | None = None,
    sort: str | None = None,
    page_no: str | None = Query(None, alias="page"),
    per_page: str | None = None,
) -> Response:
    stages = settings.live.journey.stage_names
    query = listing.parse(stages=stages, q=q, stage=stage, sort=sort, page=page_no,
                          per_page=per_page)  # fmt: skip
    result = listing.search(conn, query)
    pulse_service.with_pulse(conn, result["items"], settings.live, datetime.now(UTC))
    return page(request, "customers.html", result=result, query=query, stages=stages,
                sorts=SORT_LABELS)  # fmt: skip


@router.get("/customers/{customer_id}")
def customer_detail(
    request: Request,
    customer_id: DbId,
    conn: ConnDep,
    settings: SettingsDep,
    actor: CustomersRead,
    per_page: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> Response:
    live = queries.live_id(conn, customer_id)
    if live is not None and live != customer_id:
        return RedirectResponse(f"/customers/{live}", status_code=303)
    window = timeline.parse(limit=per_page, before=before, after=after, low=TIMELINE_LOW,
                            high=TIMELINE_HIGH, default=100, limit_name="per_page")  # fmt: skip
    profile = queries.profile(conn, customer_id=customer_id, window=window)
    now = datetime.now(UTC)
    privacy_views.record_view(request, customer_id, via="page")
    return page(request, "customer.html", customer=profile, per_page=window.limit,
                pulse=pulse_pages.customer_panel(conn, settings, customer_id, now),
                stages=journey.history(conn, customer_id),
                firings=rules.firings(conn, customer_id=customer_id, limit=20),
                privacy=privacy.panel(conn, customer_id,
                                      due_days=settings.privacy.erasure_days),
                cases=cases.list_cases(conn, now=now, customer_id=customer_id, limit=50),
                teams=[t["name"] for t in teams.list_teams(conn)],
                value=clv_pages.customer_panel(conn, customer_id),
                offers=offers_pages.customer_panel(conn, settings, customer_id, now)
                if actor.can("offers:read") else None)  # fmt: skip

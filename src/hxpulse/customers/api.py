"""JSON routes for customers: the twins of the customer pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request

from hxpulse.customers import listing, params, queries, timeline
from hxpulse.customers.schemas import CustomerPage, CustomerProfile
from hxpulse.db.base import MAX_ID
from hxpulse.deps import ConnDep, CustomerRef, CustomersRead, SettingsDep
from hxpulse.privacy import views as privacy_views
from hxpulse.pulse import service as pulse_service

router = APIRouter(prefix="/api/customers", tags=["customers"])
MAX_LIMIT = 1000


@router.get("", response_model=CustomerPage)
def list_customers(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: CustomersRead,
    q: str | None = Query(None, description="Part of the name or of any identity (email, …).",
                          json_schema_extra=params.text(listing.MAX_Q)),
    stage: str | None = Query(None, description="Only customers at this journey stage.",
                              json_schema_extra=params.text(40)),
    sort: str | None = Query(None, description="`-` first: descending; default `-created`.",
                             json_schema_extra=params.one_of(listing.SORTS)),
    page: str | None = Query(None, description="Default 1.",
                             json_schema_extra=params.integer(1, listing.MAX_PAGE)),
    per_page: str | None = Query(None, description="Default 25.",
                                 json_schema_extra=params.integer(1, listing.MAX_PER_PAGE)),
) -> dict[str, Any]:  # fmt: skip
    """List live customers with the total matching: search names and identities, filter by
    stage, sort by name, pulse, created or last activity. A bad parameter answers 400."""
    query = listing.parse(stages=settings.live.journey.stage_names, q=q, stage=stage,
                          sort=sort, page=page, per_page=per_page)  # fmt: skip
    found = listing.search(conn, query)
    pulse_service.with_pulse(conn, found["items"], settings.live, datetime.now(UTC))
    return found


@router.get("/{ref}", response_model=CustomerProfile)
def get_customer(
    ref: CustomerRef,
    request: Request,
    conn: ConnDep,
    _actor: CustomersRead,
    limit: str | None = Query(None, description="Events per page; default 100.",
                              json_schema_extra=params.integer(1, MAX_LIMIT)),
    before: str | None = Query(None, description="The page of events older than this event id.",
                               json_schema_extra=params.integer(1, MAX_ID)),
    after: str | None = Query(None, description="The page of events newer than this event id.",
                              json_schema_extra=params.integer(1, MAX_ID)),
) -> dict[str, Any]:  # fmt: skip
    """Return one profile with identities, a page of events and the latest survey answers;
    `ref` is any identity (`kind:value` to name its kind) or `id:N` for the internal id (a bare
    number only when no identity matches). Each call is recorded in the audit log
    (customer.view)."""
    window = timeline.parse(limit=limit, before=before, after=after, high=MAX_LIMIT)
    found = queries.profile(conn, customer_id=queries.find(conn, ref), window=window)
    privacy_views.record_view(request, found["id"], via="api")
    return found

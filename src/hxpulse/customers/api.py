"""JSON routes for customers: the twins of the customer pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request

from hxpulse.customers import queries
from hxpulse.customers.schemas import CustomerPage, CustomerProfile
from hxpulse.deps import ConnDep, CustomerRef, CustomersRead, SettingsDep
from hxpulse.privacy import views as privacy_views
from hxpulse.pulse import service as pulse_service

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.get("", response_model=CustomerPage)
def list_customers(
    conn: ConnDep,
    settings: SettingsDep,
    _actor: CustomersRead,
    q: str = Query("", max_length=320, description="Part of any identity or the name."),
    page: int = Query(1, ge=1, le=100_000),
    per_page: int = Query(25, ge=1, le=200),
) -> dict[str, Any]:
    """List customers, newest first, optionally searching identities and names."""
    found = queries.search(conn, q=q, page=page, per_page=per_page)
    pulse_service.with_pulse(conn, found["items"], settings.live, datetime.now(UTC))
    return found


@router.get("/{ref}", response_model=CustomerProfile)
def get_customer(
    ref: CustomerRef,
    request: Request,
    conn: ConnDep,
    _actor: CustomersRead,
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """Return one profile with identities and recent events; `ref` is any identity (`kind:value`
    to name its kind) or `id:N` for the internal id (a bare number only when no identity
    matches). Each call is recorded in the audit log (customer.view)."""
    found = queries.profile(conn, customer_id=queries.find(conn, ref), limit=limit)
    privacy_views.record_view(request, found["id"], via="api")
    return found
